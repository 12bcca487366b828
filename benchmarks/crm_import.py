"""CRM import of a generated 50,000-row CSV on SQLite and PostgreSQL: time and rows per second.

The file looks like a call center's customer list: Chinese names (weighted surnames, as
benchmarks/crm_search.py draws them), mobiles written several ways (``13800138000``,
``+86 138 0013 8000``, ``138-0013-8000``), landlines for a third (``010-12345678``,
``(021) 1234 5678``), card numbers for half, gender, birthday, place, e-mail, source, tags,
and a custom choice field; 2 % of the rows repeat an earlier row's mobile (duplicates), 1 %
have a bad phone and 0.5 % no name. Each database is new: a SQLite file in a temporary folder
and a PostgreSQL database created on ``--dsn``'s server and dropped after. The import runs
through the worker task's own code (web.crm.import_tasks.run_job) with the policy ``--policy``.

    python benchmarks/crm_import.py [--rows 50000] [--policy skip] [--dsn ...] [--only sqlite]
"""

import argparse
import csv
import io
import pathlib
import random
import secrets
import sys
import tempfile
import time

import psycopg2
from psycopg2 import sql

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from benchmarks.crm_search import (AREAS, GIVEN, MOBILE_PREFIXES, PLACES, TAGS,  # noqa: E402
                                   VEHICLES, weighted_surnames)
from fs_cc.config import Settings  # noqa: E402
from web import create_app, db_upgrade  # noqa: E402
from web.crm.fields import FieldDefinitions  # noqa: E402
from web.crm.imports import guess_mapping  # noqa: E402
from web.crm.import_tasks import import_jobs, run_job  # noqa: E402
from web.extensions import db  # noqa: E402

HEADER = ("姓名", "手机", "电话", "卡号", "性别", "生日", "省份", "城市", "邮箱", "客户来源", "标签",
          "车型")
SOURCES = ("newspaper", "tv", "radio", "web", "114", "referral", "outdoor", "event", "other")


def mobile_text(rng, digits):
    """A mobile as people type it."""
    style = rng.random()
    if style < 0.6:
        return digits
    if style < 0.8:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def landline_text(rng):
    """A landline with its area code, in one of two common forms."""
    area, length = rng.choice(AREAS)
    local = str(rng.randrange(2, 10)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
    return f"0{area}-{local}" if rng.random() < 0.5 else f"(0{area}) {local[:4]} {local[4:]}"


def generate_csv(count, seed):
    """The CSV text of ``count`` customer rows (with duplicates and bad rows)."""
    rng = random.Random(seed)
    surname = weighted_surnames(rng)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    mobiles = []
    for number in range(count):
        name = surname() + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        roll = rng.random()
        if roll < 0.02 and mobiles:
            mobile = rng.choice(mobiles)  # the same person listed twice
        else:
            mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
            mobiles.append(mobile)
        phone = mobile_text(rng, mobile) if not 0.02 <= roll < 0.03 else "12345"
        if 0.03 <= roll < 0.035:
            name = ""
        province, city, _ = rng.choice(PLACES)
        writer.writerow((
            name, phone, landline_text(rng) if rng.random() < 0.33 else "",
            f"M{number:08d}" if rng.random() < 0.5 else "", rng.choice(("男", "女", "")),
            f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            province, city, f"user{number}@example.cn" if rng.random() < 0.3 else "",
            rng.choice(SOURCES), rng.choice(TAGS) if rng.random() < 0.4 else "",
            rng.choice(VEHICLES) if rng.random() < 0.5 else ""))
    return out.getvalue()


def bench(label, url, data, policy):
    """Migrate a new database at ``url``, import ``data`` into it; print the time."""
    var_dir = pathlib.Path(tempfile.mkdtemp())
    app = create_app(test_config={"TESTING": True}, settings=Settings(
        var_dir=var_dir, database_url=url, broker_url="memory://", redis_url=None,
        secret_key=secrets.token_hex(32), control_secret=secrets.token_hex(16)))
    db_upgrade(app)
    with app.app_context():
        FieldDefinitions(db.session).define({"key": "vehicle", "label": "车型",
                                             "kind": "choice", "choices": list(VEHICLES)})
        jobs = import_jobs()
        token = jobs.store_upload("bench.csv", io.BytesIO(data))
        header, _, _ = jobs.preview(token)
        definitions = FieldDefinitions(db.session).active()
        job = jobs.start(token, "bench.csv", guess_mapping(header, definitions), policy,
                         "bench", definitions)
        started = time.perf_counter()
        job = run_job(job.id)
        elapsed = time.perf_counter() - started
        print(f"{label}: {job.total_rows:,} rows in {elapsed:.1f} s "
              f"({job.total_rows / elapsed:,.0f} rows/s): {job.created:,} created, "
              f"{job.updated:,} updated, {job.skipped:,} skipped, {job.failed:,} failed")
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--policy", default="skip", choices=("skip", "update", "create"))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        help="an admin connection that may create databases")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    data = generate_csv(args.rows, args.seed).encode("utf-8")
    print(f"generated {args.rows:,} rows ({len(data) / 1e6:.1f} MB of CSV)")
    if args.only in (None, "sqlite"):
        folder = pathlib.Path(tempfile.mkdtemp())
        bench("SQLite", f"sqlite:///{folder / 'bench.sqlite'}", data, args.policy)
    if args.only in (None, "postgresql"):
        name = f"fs_cc_import_bench_{secrets.token_hex(4)}"
        admin = psycopg2.connect(args.dsn)
        admin.autocommit = True
        admin.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        params = psycopg2.extensions.parse_dsn(args.dsn)
        url = (f"postgresql+psycopg2://{params.get('user', 'postgres')}@"
               f"{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}")
        try:
            bench("PostgreSQL", url, data, args.policy)
        finally:
            admin.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            admin.close()


if __name__ == "__main__":
    main()
