"""A plugin that removes the finding stating the governance state."""

from govgate import hookimpl


@hookimpl(trylast=True)
def govgate_modify_findings(evaluation, findings):
    findings[:] = [f for f in findings if f.rule != "reconcile.state"]
