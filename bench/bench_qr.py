"""Median time to make a QR PNG, a QR SVG, a poster and a banner.

Cold: each run is a fresh interpreter that has imported `qr` and then makes
one item, so font loading and parsing are counted, as for the first request
a new worker serves. Warm: the same item made again in one process.

    .venv/bin/python bench/bench_qr.py [--runs 15]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = "https://ocenka.example"
CASES = {
    "qr png 512": "qr.make_qr(BASE, 123456, kind='png', size=512)",
    "qr svg": "qr.make_qr(BASE, 123456, kind='svg')",
    "poster A4, 1 page": (
        "qr.make_poster(BASE, [qr.PosterItem(123456, 'Городская поликлиника № 5', "
        "'Учреждение здравоохранения', 'г. Минск, ул. Независимости, 12')])"
    ),
    "poster A4, 20 pages": (
        "qr.make_poster(BASE, [qr.PosterItem(1000 + i, f'Отделение № {i}', "
        "'Городская поликлиника № 5', 'г. Минск') for i in range(20)])"
    ),
    "banner png 240x400": "qr.make_banner(BASE, 123456, name='Городская поликлиника № 5', size='240x400')",
    "banner svg 240x400": (
        "qr.make_banner(BASE, 123456, name='Городская поликлиника № 5', size='240x400', kind='svg')"
    ),
    "badge svg": "qr.make_badge(4.61, 312)",
}

_COLD = """
import sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
import qr
t1 = time.perf_counter()
BASE = {base!r}
out = {expr}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, len(out))
"""


def cold(expr, runs):
    imports, calls = [], []
    for _ in range(runs):
        code = _COLD.format(root=str(ROOT), base=BASE, expr=expr)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        t_import, t_call, size = out.stdout.split()
        imports.append(float(t_import))
        calls.append(float(t_call))
    return statistics.median(calls), statistics.median(imports), int(size)


def warm(expr, runs):
    import qr

    namespace = {"qr": qr, "BASE": BASE}
    eval(expr, namespace)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        eval(expr, namespace)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, nproc {os.cpu_count()}, {cpu_model()}, "
          f"Python {platform.python_version()}, {args.runs} runs")
    print(f"{'what':<22} {'cold ms':>9} {'warm ms':>9} {'bytes':>8}")
    import_times = []
    for name, expr in CASES.items():
        cold_call, cold_import, size = cold(expr, args.runs)
        import_times.append(cold_import)
        print(f"{name:<22} {cold_call * 1000:9.1f} {warm(expr, args.runs) * 1000:9.1f} {size:8d}")
    print(f"{'import qr':<22} {statistics.median(import_times) * 1000:9.1f}")


if __name__ == "__main__":
    main()
