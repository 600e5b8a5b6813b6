"""What fit_profile.py and summarize.py both need from a probe run's CSVs (standard library only)."""
import csv
import os

MIB = 1024.0 * 1024.0


def rows(data_dir, name):
    """The rows of data_dir/name as dicts, every field that reads as a number a float."""
    with open(os.path.join(data_dir, name), newline="") as f:
        out = []
        for r in csv.DictReader(f):
            for k, v in r.items():
                try:
                    r[k] = float(v)
                except ValueError:
                    pass
            out.append(r)
        return out


def fit_line(xs, ys):
    """least squares y = a + b x"""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b
