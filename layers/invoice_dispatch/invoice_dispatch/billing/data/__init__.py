"""Versioned billing data bundled with the layer: the price catalog and the tax rate table."""
