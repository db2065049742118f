"""HTTP: the dashboard API and page, the analyst's and the four-eyes commands, need-to-know, the
audit of reads, exports. Reads the read models and writes commands through ports (ports.py)."""
