"""The native API's routers, one module per resource family; the seeds' own paths and
shapes are in :mod:`roost.api.compat`."""
