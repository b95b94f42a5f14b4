"""What runs in the provider process: one module per resource type on a small base.

The engine starts `pulumi.dynamic`, which unpickles a provider class from a
resource's state and calls it; nothing here declares a resource. Each
provider class is pickled under the path it had before this layout (its
module says which), and that path re-exports it.
"""
