"""One module per CLI subcommand; each registers itself with ``resnet_core.cli.command``."""
