"""Link templates: the addon's placeholders replaced, every other brace kept."""

import pytest

from core.links import TemplateError, check, render

VALUES = {"endpoint": "/web/dataset/call_kw/res.partner/read", "request_id": "ab12", "start": "2026-12-03T08:00:00Z",
          "end": "2026-12-03T09:00:00Z"}


def test_placeholders_are_replaced_url_encoded():
    assert render("https://g/d/api?var-endpoint={endpoint}&from={start}&to={end}", VALUES) == (
        "https://g/d/api?var-endpoint=%2Fweb%2Fdataset%2Fcall_kw%2Fres.partner%2Fread"
        "&from=2026-12-03T08%3A00%3A00Z&to=2026-12-03T09%3A00%3A00Z")


def test_grafana_and_loki_braces_are_kept_as_written():
    template = 'https://g/explore?left={"queries":[{"expr":"{job=\\"odoo\\"}|=\\"{request_id}\\""}]}'
    assert render(template, VALUES) == 'https://g/explore?left={"queries":[{"expr":"{job=\\"odoo\\"}|=\\"ab12\\""}]}'
    check(template)


@pytest.mark.parametrize("template", ["{", "}", "{}", "{0}", "{endpoint", "{{endpoint}}", "%s %(x)s", "{!r}"])
def test_no_template_makes_rendering_fail(template):
    assert isinstance(render("https://g/" + template, VALUES), str)


@pytest.mark.parametrize(("template", "message"), [
    ("ftp://g/x", "The link must start with http:// or https://, e.g. https://grafana.example.com/d/api"),
    ("https://g/x?q={reqest_id}", "The link uses {reqest_id}, which is not a placeholder: use {endpoint}, "
                                  "{request_id}, {start}, {end}."),
    ("https://g/x y", "The link cannot contain spaces: write them as %20."),
    ("https://g/" + "x" * 2000, "The link is 2010 characters long; keep it to 2000."),
])
def test_a_template_that_cannot_be_used_says_what_to_fix(template, message):
    with pytest.raises(TemplateError) as raised:
        check(template)
    assert str(raised.value) == message
