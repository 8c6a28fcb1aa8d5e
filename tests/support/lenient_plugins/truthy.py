"""A gate plugin that answers with a truthy value that is not ``True``."""

from govgate import hookimpl


@hookimpl(tryfirst=True)
def govgate_gate_passed(evaluation, findings):
    return "yes"
