"""Collections: chasing what customers owe, from the first reminder to a person's decision.

Pure domain (no boto3): the reminder stages and what a day's run does for each
receivable (``stages.py``), escalations and the decisions that close them
(``escalation.py``), the KPIs of the collections report (``kpis.py``) and which internal
topic hears of which event (``notifications.py``). The records live in
``adapters/collections_store.py``; the steps of the daily run in ``workflow/collections_*``.
"""
