"""Everything that leans on the Pulumi SDK's, grpc's or the engine's internals.

The dynamic provider host offers no API for some things a good provider needs
(more than 4 operations at once, progress lines, noticing that its engine
has gone). Each such reliance lives here, in one module per concern, and
fails soft: a changed internal may cost speed or a progress line, never an
operation.
"""
