"""The customer portal: signed per-customer links, the documents page, EPC payment codes.

Pure domain code: no AWS SDK. ``workflow/portal_web.py`` verifies the link, reads one
page of the customer's documents through the stores and renders it with these.
"""
