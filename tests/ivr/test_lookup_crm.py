"""A lookup node's ``crm`` source: the customer the web's CRM stored, found by the caller's number
in any common form, on SQLite and PostgreSQL (real databases, customers saved the CRM's way)."""

import pytest

from fs_cc.errors import ConfigError
from fs_cc.ivr.datasources import CrmSource, DataSources, e164_of, parse_sources
from tests.web.support import app_on, database_url_for, dispose, migrated_databases  # noqa: F401
from web.crm.rules import CustomerRules
from web.crm.services import CustomerService
from web.extensions import db

SOURCES = """\
sources:
  caller:
    kind: crm
    region: cn
    timeout: 1
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def crm_db(request, tmp_path, migrated_databases):
    """(url, {name: customer id}): two customers and a deleted one, saved by the CRM's service."""
    url = database_url_for(migrated_databases, request.param)
    app = app_on(tmp_path, url)
    with app.app_context():
        service = CustomerService(db.session, CustomerRules(db.session, "CN"))
        ids = {}
        for name, phones, level in (("王秀英", ["+86 138 0013 8000", "010-12345678"], "gold"),
                                    ("李强", ["13900139000"], ""),
                                    ("张伟", ["13700137000"], "silver")):
            ids[name] = service.save({"name": name, "phones": phones, "level": level,
                                      "card_number": f"C-{len(ids) + 1}"}, by="test").id
        service.delete(ids["张伟"], by="test")
        db.session.remove()
    yield url, ids
    dispose(app)


@pytest.mark.parametrize("dialled", ["13800138000", "+8613800138000", "008613800138000",
                                     "+86 138-0013-8000", "01012345678", "+861012345678"])
def test_given_a_customer_phone_in_any_form_when_looked_up_then_that_customer(crm_db, dialled):
    url, ids = crm_db
    sources = DataSources(parse_sources(SOURCES, "sources.yaml"), default_database=url)
    try:
        record = sources.fetch("caller", dialled)
    finally:
        sources.close()
    assert record == {"customer_id": ids["王秀英"], "name": "王秀英", "level": "gold",
                      "card_number": "C-1", "gender": "", "company": "", "city": ""}


@pytest.mark.parametrize("dialled", ["13600136000", "13700137000", "anonymous", "", "12"])
def test_given_no_live_customer_with_the_number_when_looked_up_then_not_found(crm_db, dialled):
    # unknown, deleted (张伟), withheld, empty, too short
    url, _ = crm_db
    sources = DataSources(parse_sources(SOURCES, "sources.yaml"), default_database=url)
    try:
        assert sources.fetch("caller", dialled) is None
    finally:
        sources.close()


def test_given_crm_source_fields_when_parsed_then_region_checked_at_its_line():
    (source,) = parse_sources(SOURCES, "sources.yaml").values()
    assert isinstance(source, CrmSource) and source.region == "CN" and source.timeout == 1
    with pytest.raises(ConfigError) as error:
        parse_sources(SOURCES.replace("region: cn", "region: Mars"), "sources.yaml")
    assert error.value.line == 4 and "'region' must be a country code" in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_sources(SOURCES + "    query: SELECT 1\n", "sources.yaml")
    assert "unknown field 'query'" in str(error.value)
    assert e164_of("010-12345678", "CN") == "+861012345678"
    assert e164_of("(202) 555-0143", "US") == "+12025550143"
