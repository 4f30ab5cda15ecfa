"""Monthly invoice dispatch: the domain package shipped as one Lambda layer.

The domain modules import no AWS SDK; only ``invoice_dispatch.adapters`` does.
"""
