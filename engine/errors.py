"""The engine's errors. A refusal carries a reason a person can act on and never personal data."""


class EngineError(Exception):
    """Root of every error the engine raises on purpose."""


class ConfigurationError(EngineError):
    """The engine cannot start as configured; the message says which setting to fix."""


class Weigering(EngineError):
    """A message the engine refuses.

    `code` is a short, bounded identifier (used as a metric label); `reden` is the sentence that goes
    into the DLQ's `reason` header for the partner's integrator. Neither may hold a raw identifier.
    """

    def __init__(self, code: str, reden: str) -> None:
        super().__init__(f"{code}: {reden}")
        self.code = code
        self.reden = reden


class OutputTooLarge(EngineError):
    """A stage's handler made an output larger than its topic takes; the record is quarantined
    (reason code `output_too_large`) instead of failing the whole transaction at the broker."""

    def __init__(self, topic: str, grootte: int, maximum: int) -> None:
        super().__init__(f"an output to {topic} would be {grootte} bytes; {topic} takes at most {maximum}")


def foutsoort(fout: BaseException) -> str:
    """An exception's class name as a bounded metric label (a class is code, never input)."""
    naam = type(fout).__name__
    return naam if naam.isidentifier() and len(naam) <= 60 else "other"
