"""Adapters: the only modules that talk to AWS, the ERP or the network."""
