"""The report's pages as a reader sees them: rendered by a headless Chromium, checked, and kept as screenshots.

Writes a report of recorded runs chosen to cover each kind of figure (2-D points
that collapse, a stable ring, images, 8-value vectors shown on principal axes,
a run without a reference, one without samples), then opens ``index.html`` and
every ``report.html`` in Chromium: each image must have decoded (its natural
width above 0, read by a script in the browser), every run of the index must
link to its page, and a full-page screenshot of each page is written to the
artefacts folder (``.bench/pages/`` by default, not committed). Chromium is
Debian's ``chromium`` (``apt-get install chromium``).

    python benchmarks/report_pages.py [--out .bench/pages] [--chromium chromium]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "fixtures" / "runs"
CORPUS = ROOT / "fixtures" / "corpus" / "runs"
WIDTH = 1200

#: runs covering each kind of figure: (source folder, name in the report, files copied)
CASES = (
    (RUNS / "ring8-mode_collapse-s0", "ring8-mode_collapse", None),
    (RUNS / "spiral-stable-s0", "spiral-stable", None),
    (RUNS / "digits-mode_collapse-s0", "digits-mode_collapse", None),
    (CORPUS / "mix8d-baseline-s0", "mix8d-baseline", None),
    (RUNS / "ring8-stable-s0", "ring8-stable-no-reference", ("history.csv", "samples.npz")),
    (RUNS / "digits-diverge-s0", "digits-diverge-no-samples", ("history.csv",)),
)

CHECKER = """<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="{src}" width="{width}" height="800"></iframe>
<script>
document.getElementById('f').onload = function() {{
  var out = document.getElementById('out');
  try {{
    var d = document.getElementById('f').contentDocument;
    var imgs = Array.from(d.images).map(function(i) {{ return i.naturalWidth + 'x' + i.naturalHeight; }});
    var links = Array.from(d.links).map(function(a) {{ return a.getAttribute('href'); }});
    out.textContent = 'height=' + d.documentElement.scrollHeight + '\\nimages=' + imgs.join(',') +
                      '\\nlinks=' + links.join(',');
  }} catch (e) {{ out.textContent = 'error=' + e; }}
}};
</script></body></html>
"""


def make_report(work: Path) -> Path:
    runs = work / "runs"
    for src, name, files in CASES:
        dest = runs / name
        dest.mkdir(parents=True)
        for f in files or [p.name for p in src.iterdir() if p.is_file()]:
            shutil.copy(src / f, dest / f)
    out = work / "report"
    cmd = [sys.executable, "-m", "gandiag", "report", str(runs), "--out", str(out), "--jobs", "2"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"gandiag report failed ({done.returncode}): {done.stderr[-800:]}")
    print(f"gandiag report of {len(CASES)} runs --jobs 2: {time.perf_counter() - t0:.1f} s")
    return out


def inspect(chromium: str, page: Path, work: Path) -> dict[str, object]:
    """What the browser made of ``page``: its height, each image's decoded size, its links."""
    checker = work / f"check-{abs(hash(page))}.html"
    checker.write_text(CHECKER.format(src=page.as_uri(), width=WIDTH))
    done = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                           "--virtual-time-budget=10000", "--dump-dom", checker.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    text = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    if not text or "error=" in text.group(1) or "pending" in text.group(1):
        raise SystemExit(f"chromium could not inspect {page}: {(text.group(1) if text else done.stderr[-500:])}")
    fields = dict(line.split("=", 1) for line in text.group(1).splitlines())
    images = [tuple(int(v) for v in s.split("x")) for s in fields["images"].split(",") if s]
    return {"height": int(fields["height"]), "images": images, "links": [x for x in fields["links"].split(",") if x]}


def screenshot(chromium: str, page: Path, height: int, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={WIDTH},{height + 20}", f"--screenshot={dest}", "--virtual-time-budget=10000",
                    page.as_uri()], capture_output=True, text=True, timeout=120, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "pages", help="folder for the screenshots")
    parser.add_argument("--chromium", default="chromium")
    args = parser.parse_args()
    chromium = shutil.which(args.chromium)
    if chromium is None:
        raise SystemExit(f"{args.chromium} not found: apt-get install chromium (or pass --chromium PATH)")
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"browser: {version}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = make_report(work)
        pages = [report / "index.html"] + sorted(report.glob("*/report.html"))
        problems = []
        print(f"{'page':<40} {'height':>7} {'images':>7}  decoded  screenshot")
        for page in pages:
            seen = inspect(chromium, page, work)
            name = "index" if page.name == "index.html" else page.parent.name
            shot = args.out / f"{name}.png"
            screenshot(chromium, page, int(seen["height"]), shot)
            decoded = all(w > 0 and h > 0 for w, h in seen["images"])
            expected = len(list(page.parent.glob("*.png"))) + len(list(page.parent.glob("*.gif")))
            if not decoded:
                problems.append(f"{name}: an image did not decode ({seen['images']})")
            if page.name == "report.html" and len(seen["images"]) != expected:
                problems.append(f"{name}: {len(seen['images'])} images shown, {expected} written")
            if page.name == "index.html":
                missing = [p.parent.name for p in pages[1:] if f"{p.parent.name}/report.html" not in seen["links"]]
                if missing:
                    problems.append(f"index: no link to {', '.join(missing)}")
            print(f"{name:<40} {seen['height']:>7} {len(seen['images']):>7}  {'yes' if decoded else 'NO':<7}  {shot}")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("every page rendered, every image decoded, every run linked" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
