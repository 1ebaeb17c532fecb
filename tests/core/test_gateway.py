"""The gateway files in deploy/: Nginx accepts its configuration, mtail compiles its program and turns the
access log into the addon's endpoint names with the right origin."""

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

LOG = [
    # Odoo answered
    '{"time":"2026-11-23T10:00:00+00:00","request_id":"a1","method":"POST","path":"/web/dataset/call_kw/res.partner/create","status":200,"upstream_status":"200","upstream_header_time":"0.004","request_time":0.005,"upstream_response_time":"0.005","outcome":"success"}',
    # Odoo answered a JSON-RPC error with HTTP 200: its outcome header says server_error
    '{"time":"2026-11-23T10:00:00+00:00","request_id":"a6","method":"POST","path":"/web/dataset/call_kw/res.partner/create","status":200,"upstream_status":"200","upstream_header_time":"0.004","request_time":0.005,"upstream_response_time":"0.005","outcome":"server_error"}',
    # Odoo down: Nginx answered 502 alone
    '{"time":"2026-11-23T10:00:01+00:00","request_id":"a2","method":"POST","path":"/web/dataset/call_kw/res.partner/create","status":502,"upstream_status":"502","upstream_header_time":"-","request_time":0.001,"upstream_response_time":"0.000","outcome":"server_error"}',
    # a random URL: "other", never a new series
    '{"time":"2026-11-23T10:00:02+00:00","request_id":"a3","method":"GET","path":"/r-0123456789/42","status":404,"upstream_status":"404","upstream_header_time":"0.002","request_time":0.003,"upstream_response_time":"0.003","outcome":"client_error"}',
    # Odoo too slow: 504 from Nginx
    '{"time":"2026-11-23T10:00:03+00:00","request_id":"a4","method":"POST","path":"/jsonrpc","status":504,"upstream_status":"504","upstream_header_time":"-","request_time":60.001,"upstream_response_time":"60.000","outcome":"server_error"}',
    # the first upstream failed, the second answered: Odoo's answer counts
    '{"time":"2026-11-23T10:00:04+00:00","request_id":"a5","method":"POST","path":"/xmlrpc/2/object","status":200,"upstream_status":"502, 200","upstream_header_time":"-, 0.010","request_time":0.011,"upstream_response_time":"0.000, 0.011","outcome":"success"}',
]


@pytest.mark.skipif(not shutil.which("mtail"), reason="mtail not installed (Debian package mtail)")
def test_mtail_turns_the_access_log_into_gateway_metrics(tmp_path):
    compiled = subprocess.run(["mtail", "--compile_only", "--progs", str(DEPLOY / "mtail")],
                              capture_output=True, text=True, timeout=60)
    assert compiled.returncode == 0 and "compile failed" not in compiled.stderr, compiled.stderr
    (tmp_path / "access.json").write_text("\n".join(LOG) + "\n")
    out = subprocess.run(["mtail", "--one_shot", "--one_shot_format", "prometheus", "--emit_prog_label=false",
                          "--progs", str(DEPLOY / "mtail"), "--logs", str(tmp_path / "access.json")],
                         capture_output=True, text=True, timeout=60).stdout
    assert sorted(line for line in out.splitlines() if line.startswith("gateway_http_requests_total{")) == [
        'gateway_http_requests_total{code="200",endpoint="/web/dataset/call_kw/res.partner/create",method="POST",origin="upstream",outcome="server_error"} 1',
        'gateway_http_requests_total{code="200",endpoint="/web/dataset/call_kw/res.partner/create",method="POST",origin="upstream",outcome="success"} 1',
        'gateway_http_requests_total{code="200",endpoint="/xmlrpc/2/object",method="POST",origin="upstream",outcome="success"} 1',
        'gateway_http_requests_total{code="404",endpoint="other",method="GET",origin="upstream",outcome="client_error"} 1',
        'gateway_http_requests_total{code="502",endpoint="/web/dataset/call_kw/res.partner/create",method="POST",origin="gateway",outcome="server_error"} 1',
        'gateway_http_requests_total{code="504",endpoint="/jsonrpc",method="POST",origin="gateway",outcome="server_error"} 1',
    ]
    assert 'gateway_http_request_duration_seconds_count{endpoint="/jsonrpc"} 1' in out


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (Debian package nginx)")
def test_nginx_accepts_the_gateway_configuration(tmp_path):
    site = (DEPLOY / "nginx" / "api_monitor_gateway.conf").read_text()
    site = site.replace("/var/log/nginx/", f"{tmp_path}/").replace("listen 80;", "listen 127.0.0.1:18080;")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
