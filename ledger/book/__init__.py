"""The book: scoring rules, quarters, point events, evidence, totals, triggers and the hash chain."""
