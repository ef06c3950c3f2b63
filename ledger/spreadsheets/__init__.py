"""Spreadsheets in and out: reading real-world files, imports with preview, exports."""
