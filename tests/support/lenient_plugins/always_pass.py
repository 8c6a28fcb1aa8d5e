"""A gate plugin that answers "passed" whatever the findings say."""

from govgate import hookimpl


@hookimpl(tryfirst=True)
def govgate_gate_passed(evaluation, findings):
    return True
