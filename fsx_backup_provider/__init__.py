"""Amazon FSx backups as a Pulumi dynamic resource."""
