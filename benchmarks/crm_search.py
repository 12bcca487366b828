"""CRM search over a million customers on PostgreSQL: load time, then p50/p95 of typical queries.

A fresh database is created (and dropped at the end unless ``--keep``) and migrated; the
customers are generated the way a Chinese call center's records look: names drawn from the
common surnames (weighted, a few compound ones such as 欧阳) and given-name characters, one or
two phones each (mobiles of the real 13x-19x ranges; a third also a landline with its 0-prefixed
area code), card numbers for half of them, the default source channels, levels, tags, an owner
for some, and a custom choice field (车型) for half. They are loaded with COPY in batches with
the trigram indexes dropped, which are then built once (both times printed).

Each query is then run ``--runs`` times with varied inputs through the app's own search
(web.crm.search.CustomerSearch: the page of 20 customers with their phones and tags, and the
capped count), timed from the call to the rows in hand: a phone fragment of 4 and of 7 digits,
a whole mobile in three formats, a landline as 010-xxxxxxxx, a surname + given-name fragment,
a given name of two letters, a card number, a tag with a source, a custom field with a source,
and the plain newest-first list.

    python benchmarks/crm_search.py [--customers 1000000] [--runs 60] [--dsn ...] [--keep]
    python benchmarks/crm_search.py --database NAME   # query a database kept by --keep again
"""

import argparse
import csv
import datetime
import io
import json
import pathlib
import random
import secrets
import statistics
import sys
import tempfile
import time

import psycopg2
from psycopg2 import sql

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from fs_cc.config import Settings  # noqa: E402
from web import create_app, db_upgrade  # noqa: E402
from web.crm.fields import FieldDefinitions  # noqa: E402
from web.crm.rules import DEFAULT_LEVELS, DEFAULT_SOURCES, search_text  # noqa: E402
from web.crm.search import CustomerQuery, CustomerSearch, custom_filter  # noqa: E402
from web.extensions import db  # noqa: E402

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
            "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
            "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉华红建国文斌辉鹏飞宇浩然子涵梓萱"
         "雨欣嘉怡俊博思晨一诺欣怡佳琪志强海燕婷雪梅春凤金龙云峰晓东慧颖")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181",
                   "182", "185", "186", "187", "188", "189", "191", "198", "199")
AREAS = (("10", 8), ("21", 8), ("20", 8), ("755", 8), ("28", 8), ("571", 8), ("27", 8),
         ("25", 8), ("23", 8), ("512", 8), ("371", 7), ("531", 7))
PLACES = (("北京", "北京", "朝阳区"), ("上海", "上海", "浦东新区"), ("广东", "广州", "天河区"),
          ("广东", "深圳", "南山区"), ("四川", "成都", "武侯区"), ("浙江", "杭州", "西湖区"))
TAGS = ("老客户", "vip", "投诉过", "潜在客户", "已回访", "生日关怀", "团购", "黑名单")
VEHICLES = ("轿车", "SUV", "MPV", "新能源")
BATCH = 100_000
PAGE = 20
NULL = "\\N"  # COPY's NULL marker here: an empty text is an empty text


def weighted_surnames(rng):
    """Surnames with a falling weight (王, 李, 张 are far commoner than 汤)."""
    weights = [1.0 / (rank + 3) for rank in range(len(SURNAMES))]
    return lambda: (rng.choice(COMPOUND) if rng.random() < 0.01
                    else rng.choices(SURNAMES, weights)[0])


def generate(count, rng):
    """Yield (customer row, [(e164, digits, kind)], [tags], vehicle or None) for ids 1..count."""
    surname = weighted_surnames(rng)
    start = datetime.datetime(2020, 1, 1)
    for customer_id in range(1, count + 1):
        name = surname() + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
        phones = [("+86" + mobile, mobile, "mobile")]
        if rng.random() < 0.33:
            area, length = rng.choice(AREAS)
            local = str(rng.randrange(2, 9)) + f"{rng.randrange(10 ** (length - 1)):0{length - 1}d}"
            phones.append(("+86" + area + local, "0" + area + local, "landline"))
        province, city, district = rng.choice(PLACES)
        created = start + datetime.timedelta(seconds=rng.randrange(6 * 365 * 86400))
        tags = rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))
        vehicle = rng.choice(VEHICLES) if rng.random() < 0.5 else None
        row = (customer_id, name, search_text(name), rng.choice(("male", "female")),
               f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
               province, city, district, f"{rng.randrange(1, 999)}号", "", "",
               f"C{customer_id:08d}" if customer_id % 2 else None,
               rng.choice(DEFAULT_SOURCES), rng.random() < 0.4, rng.random() < 0.2,
               rng.choice(DEFAULT_LEVELS), None,
               json.dumps({"vehicle": vehicle} if vehicle else {}, ensure_ascii=False),
               created.isoformat(), "bench", created.isoformat())
        yield row, phones, tags, vehicle


CUSTOMER_COLUMNS = ("id", "name", "name_search", "gender", "birthday", "province", "city",
                    "district", "street", "email", "company", "card_number", "source",
                    "consent_mail", "consent_gifts", "level", "owner_id", "custom",
                    "created_at", "created_by", "updated_at")


def _copy(cursor, table, columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([NULL if value is None else value for value in row] for row in rows)
    buffer.seek(0)
    cursor.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))).as_string(
        cursor), buffer)


def load(dsn, count, field_id, seed):
    """COPY ``count`` customers in batches; returns (sample of generated values, seconds)."""
    rng = random.Random(seed)
    sample = {"phones": [], "landlines": [], "names": [], "cards": []}
    connection = psycopg2.connect(dsn)
    cursor = connection.cursor()
    cursor.execute("DROP INDEX ix_crm_customers_name_search; DROP INDEX ix_crm_phones_digits")
    # the generated rows are consistent: skip the foreign keys' per-row triggers while loading
    cursor.execute("SET session_replication_role = replica")
    began = time.perf_counter()
    customers, phones, tags, values, phone_id, value_id = [], [], [], [], 0, 0
    for row, numbers, tag_list, vehicle in generate(count, rng):
        customers.append(row)
        for position, (e164, digits, kind) in enumerate(numbers):
            phone_id += 1
            phones.append((phone_id, row[0], e164, digits, kind, "", position))
            if rng.random() < 0.001:
                sample["landlines" if kind == "landline" else "phones"].append(digits)
        tags.extend((row[0], tag) for tag in tag_list)
        if vehicle:
            value_id += 1
            values.append((value_id, row[0], field_id, vehicle))
        if rng.random() < 0.001:
            sample["names"].append(row[1])
            if row[11]:
                sample["cards"].append(row[11])
        if len(customers) >= BATCH:
            _flush(cursor, customers, phones, tags, values)
            connection.commit()
            print(f"  {row[0]:>9,} customers  {time.perf_counter() - began:6.1f} s", flush=True)
    _flush(cursor, customers, phones, tags, values)
    connection.commit()
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    cursor.execute("CREATE INDEX ix_crm_customers_name_search ON crm_customers "
                   "USING gin (name_search gin_trgm_ops)")
    cursor.execute("CREATE INDEX ix_crm_phones_digits ON crm_phones "
                   "USING gin (digits gin_trgm_ops)")
    connection.commit()
    indexed = time.perf_counter() - began
    connection.autocommit = True
    cursor.execute("VACUUM ANALYZE")
    cursor.execute("SELECT setval('crm_customers_id_seq', %s)", (count,))
    connection.close()
    return sample, loaded, indexed


def sample_of(dsn):
    """Inputs for the queries drawn from a loaded database (``--database``)."""
    connection = psycopg2.connect(dsn)
    cursor = connection.cursor()
    found = {}
    for key, query in (
            ("phones", "SELECT digits FROM crm_phones TABLESAMPLE SYSTEM (1) "
                       "WHERE kind = 'mobile' LIMIT 1000"),
            ("landlines", "SELECT digits FROM crm_phones TABLESAMPLE SYSTEM (1) "
                          "WHERE kind = 'landline' LIMIT 1000"),
            ("names", "SELECT name FROM crm_customers TABLESAMPLE SYSTEM (1) LIMIT 1000"),
            ("cards", "SELECT card_number FROM crm_customers TABLESAMPLE SYSTEM (1) "
                      "WHERE card_number IS NOT NULL LIMIT 1000")):
        cursor.execute(query)
        found[key] = [row[0] for row in cursor.fetchall()]
    connection.close()
    return found


def _flush(cursor, customers, phones, tags, values):
    _copy(cursor, "crm_customers", CUSTOMER_COLUMNS, customers)
    _copy(cursor, "crm_phones", ("id", "customer_id", "e164", "digits", "kind", "label",
                                 "position"), phones)
    _copy(cursor, "crm_customer_tags", ("customer_id", "tag"), tags)
    _copy(cursor, "crm_custom_values", ("id", "customer_id", "field_id", "text_value"), values)
    for rows in (customers, phones, tags, values):
        rows.clear()


def queries(sample, vehicle_field, rng):
    """{label: function(i) -> CustomerQuery}: each varies its input with i."""
    phones, lands, names, cards = (sample["phones"], sample["landlines"], sample["names"],
                                   sample["cards"])

    def pick(values, i):
        return values[(i * 7919) % len(values)]

    def spaced(mobile):
        return f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"

    def piece(digits, length, i):
        start = (i * 31) % (len(digits) - length + 1)
        return digits[start:start + length]

    def surname_given(name):
        return name[:2] if len(name) > 2 else name

    return {
        "phone fragment, 4 digits": lambda i: CustomerQuery(text=piece(pick(phones, i), 4, i)),
        "phone fragment, 7 digits": lambda i: CustomerQuery(text=piece(pick(phones, i), 7, i)),
        "mobile 13800138000": lambda i: CustomerQuery(text=pick(phones, i)),
        "mobile +86 138 0013 8000": lambda i: CustomerQuery(text=spaced(pick(phones, i))),
        "mobile 008613800138000": lambda i: CustomerQuery(text="0086" + pick(phones, i)),
        "landline 010-12345678": lambda i: CustomerQuery(
            text=pick(lands, i)[:3] + "-" + pick(lands, i)[3:]),
        "surname + given name (王秀)": lambda i: CustomerQuery(text=surname_given(pick(names, i))),
        "full name (王秀英)": lambda i: CustomerQuery(text=pick(names, i)),
        "given name, 2 letters (秀英)": lambda i: CustomerQuery(
            text=next((n[-2:] for n in names[i % len(names):] if len(n) == 3), "秀英")),
        "card number": lambda i: CustomerQuery(text=pick(cards, i)),
        "tag + source filter": lambda i: CustomerQuery(
            tag=TAGS[i % len(TAGS)], source=DEFAULT_SOURCES[i % len(DEFAULT_SOURCES)]),
        "custom field + source filter": lambda i: CustomerQuery(
            custom=[custom_filter(vehicle_field, VEHICLES[i % len(VEHICLES)], "cf")],
            source=DEFAULT_SOURCES[(i * 3) % len(DEFAULT_SOURCES)]),
        "surname + level + newest first": lambda i: CustomerQuery(
            text=SURNAMES[i % 20], level=DEFAULT_LEVELS[i % len(DEFAULT_LEVELS)]),
        "no box, newest first": lambda i: CustomerQuery(offset=(i % 5) * PAGE),
    }


def percentile(values, share):
    """The ``share`` percentile (0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(app, cases, runs):
    """Time each query ``runs`` times; print p50, p95, max and the median rows found."""
    with app.app_context():
        search = CustomerSearch(db.session, "CN")
        print(f"\n{'query':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'total (median)':>15}")
        for label, build in cases.items():
            times, totals = [], []
            for i in range(runs + 3):
                query = build(i)
                query.limit = PAGE
                began = time.perf_counter()
                page = search.search(query)
                elapsed = (time.perf_counter() - began) * 1000
                db.session.rollback()  # a fresh transaction, as a request has
                db.session.expunge_all()
                if i >= 3:  # the first runs warm the plan cache and the connection
                    times.append(elapsed)
                    totals.append(page.total)
            print(f"{label:34} {statistics.median(times):8.1f} {percentile(times, 0.95):8.1f} "
                  f"{max(times):8.1f} {int(statistics.median(totals)):>15,}", flush=True)


def load_fresh(app, dsn, name, args):
    """Migrate the new database, define the custom field, load the customers; the sample."""
    db_upgrade(app)
    with app.app_context():
        vehicle = FieldDefinitions(db.session).define(
            {"key": "vehicle", "label": "车型", "kind": "choice", "choices": list(VEHICLES)})
        field_id = vehicle.id
        db.engine.dispose()
    print(f"loading {args.customers:,} customers into {name} (COPY, {BATCH:,} a batch)")
    sample, loaded, indexed = load(dsn, args.customers, field_id, args.seed)
    print(f"loaded in {loaded:.1f} s ({args.customers / loaded:,.0f} customers/s); "
          f"trigram indexes built in {indexed:.1f} s")
    return sample


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        help="an admin connection that may create databases")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--database", help="query this database, loaded by an earlier --keep")
    args = parser.parse_args()
    name = args.database or f"fs_cc_crm_bench_{secrets.token_hex(4)}"
    admin = psycopg2.connect(args.dsn)
    admin.autocommit = True
    if args.database:
        args.keep = True
    else:
        admin.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = psycopg2.extensions.parse_dsn(args.dsn)
    dsn = psycopg2.extensions.make_dsn(args.dsn, dbname=name)
    url = (f"postgresql+psycopg2://{params.get('user', 'postgres')}@"
           f"{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}")
    var_dir = pathlib.Path(tempfile.mkdtemp())
    app = create_app(test_config={"TESTING": True}, settings=Settings(
        var_dir=var_dir, database_url=url, broker_url="memory://", redis_url=None,
        secret_key=secrets.token_hex(32), control_secret=secrets.token_hex(16)))
    try:
        if args.database:
            sample = sample_of(dsn)
        else:
            sample = load_fresh(app, dsn, name, args)
        with app.app_context():
            vehicle = FieldDefinitions(db.session).by_key("vehicle")
            cases = queries(sample, vehicle, random.Random(args.seed))
        measure(app, cases, args.runs)
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            admin.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        admin.close()


if __name__ == "__main__":
    main()
