"""A plugin that turns every error into a note."""

import dataclasses

from govgate import hookimpl
from govgate.model import Severity


@hookimpl(trylast=True)
def govgate_modify_findings(evaluation, findings):
    findings[:] = [dataclasses.replace(f, severity=Severity.INFO) for f in findings]
