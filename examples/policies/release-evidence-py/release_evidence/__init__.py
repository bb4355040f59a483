"""Acme Release Evidence: the documentation-and-traceability side of Acme's change governance.

Plain Python with no dependency on the generated WIT bindings except in `app.py`, which converts
between the `tollgate:policy@0.3.0` types and the values these modules use:

- `catalogue`  the controls, their regulatory references and rule ids, and the pack's identity;
- `settings`   the settings (JSON Schema, defaults, parsing with field paths);
- `extension`  the `acme_release` manifest extension (JSON Schema, parsing);
- `checks`     one function per control: statuses, evidence statements and findings;
- `assemble`   the decision: applicability, outcome, summary.
"""
