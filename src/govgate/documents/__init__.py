"""The documents people read, generated from the same evaluation as the gate.

* :mod:`~govgate.documents.readback` -- the partner readback packet (lessons 174 and 166);
* :mod:`~govgate.documents.review` -- the monthly fatigue review's data and findings, rendered by
  :mod:`~govgate.documents.review_render`, run by :mod:`~govgate.documents.review_flow`, with the
  proposed ``backup_owner_policy`` bump of :mod:`~govgate.documents.proposal`;
* :mod:`~govgate.documents.whatif` -- the month replayed under a candidate policy;
* :mod:`~govgate.documents.picture` -- the heat-map as SVG and as an emoji grid;
* :mod:`~govgate.documents.checklist` -- lesson 174's verification checklist and lesson 166's
  success checks, each evaluated against the inputs;
* :mod:`~govgate.documents.faq` -- the one-page signer FAQ from the thresholds in force;
* :mod:`~govgate.documents.sections` -- the job-summary sections of ``govgate check``;
* :mod:`~govgate.documents.trendboard` -- the deficiency trend board input (lesson 173);
* :mod:`~govgate.documents.plugin` -- the built-in ``documents`` plugin (trend board, SVG report);
* :mod:`~govgate.documents.snapshots`, :mod:`~govgate.documents.periods`,
  :mod:`~govgate.documents.md`, :mod:`~govgate.documents.output` -- evaluations at an instant,
  reporting periods, markdown helpers, atomic writes.
"""
