"""The secretary's and member's screens and the REST API over the rooms' services."""
