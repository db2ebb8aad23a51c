"""The review report as one offline HTML page: the precision table and its plots."""

import base64
import html
import io

from apps.review.precision_report import PrecisionReport


def precision_plot(report: PrecisionReport) -> str:
    """Precision per stratum with its 95% Wilson interval, as a PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the page is written by a command-line tool
    import matplotlib.pyplot as plt

    rows = report.strata
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.2))
    labels = [f"{r.kind}: {r.stratum} (n={r.reviewed})" for r in rows]
    y = list(range(len(rows)))
    precision = [r.precision for r in rows]
    errors = [[r.precision - r.ci95[0] for r in rows], [r.ci95[1] - r.precision for r in rows]]
    colours = ["#1976d2" if r.kind == "kept" else "#ef6c00" for r in rows]
    ax.barh(y, precision, xerr=errors, color=colours, capsize=4)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("precision (accepted / reviewed), 95% Wilson interval")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def render_report(report: PrecisionReport, title: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.kind)}</td><td>{html.escape(r.stratum)}</td><td>{r.reviewed}</td>"
        f"<td>{r.accepted}</td><td>{r.precision:.3f}</td><td>{r.ci95[0]:.3f} - {r.ci95[1]:.3f}</td>"
        f"<td>{r.verdicts}</td></tr>"
        for r in report.strata
    )
    a = report.agreement
    agreement = (
        f"<p>{a.items} items reviewed by two or more reviewers, {a.pairs} reviewer pairs, "
        f"{a.agreeing_pairs} agree: observed agreement {a.observed:.3f}"
        + (f", kappa {a.kappa:.3f}" if a.kappa is not None else ", kappa undefined (one verdict only)")
        + "</p>"
        if a.pairs else "<p>No item was reviewed twice: agreement cannot be measured yet.</p>"
    )
    plot = f'<img alt="precision per stratum" src="{precision_plot(report)}">' if report.strata else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{report.verdicts} verdicts by {len(report.reviewers)} reviewer(s) "
        f"on {report.items} items. An item's verdict is its reviewers' majority (a tie counts as reject).</p>"
        "<table><tr><th>kind</th><th>state / reason</th><th>reviewed</th><th>accepted</th><th>precision</th>"
        f"<th>95% Wilson</th><th>verdicts</th></tr>{rows}</table>{plot}<h2>Agreement</h2>{agreement}</body></html>"
    )
