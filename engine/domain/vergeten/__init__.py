"""Forgetting: four eyes on irreversible acts, the key ring, sealing, the retention table, which
signals an erasure or a period reaches, the inzage export (docs/vergeten.md)."""
