{% import "macros.html" as m with context %}
{{ leads_script({
  "overdue": _("Follow-up overdue"), "stale": _("Stale"), "qualified": _("Qualified"),
  "active": m.status_label("active"), "potential": m.status_label("potential"), "won": m.status_label("won"),
  "lost": m.status_label("lost"), "cancelled": m.status_label("cancelled"),
}) }}
