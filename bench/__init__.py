"""The benchmark's own dynamic resources (`bench.noop`), outside the runtime package.

Their providers pickle by reference to `bench.noop`, so the provider process
imports this package from the checkout: tools/workspace.py puts the checkout on
the engine's PYTHONPATH for the benchmark and the tests.
"""
