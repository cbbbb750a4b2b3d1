"""The newer API generation ("jobs", contract Part C): same port and paths, `gzm_k1_` keys.

`dispatch.GenerationDispatch` sends a request here when its key starts with `gzm_k1_`; every other
request goes to the alpha app. Nothing in this package imports the alpha routes.
"""
