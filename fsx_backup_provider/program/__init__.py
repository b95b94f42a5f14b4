"""What runs in the user's Pulumi program: the resource classes, the seed's side, registration.

Nothing here calls FSx: the program only declares resources and sends their
inputs to the engine.
"""
