"""pseudonymize: stable keyed pseudonyms, nothing else changed, personal data gone."""

from __future__ import annotations

import pandas as pd
import pytest

import svcmining as svc
from svcmining.privacy import pseudonymize

SH = "Asia/Shanghai"


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["1", "1", "2"],
            "activity": ["登记", "结单", "登记"],
            "timestamp": pd.to_datetime(
                ["2024-10-01 09:00", "2024-10-01 10:00", "2024-10-02 09:00"]
            ).tz_localize(SH),
            "resource": ["张伟", "李娜", "张伟"],
            "customer_id": ["C1", "C1", None],
            "备注": ["王先生 13800000000", "", "x"],
        }
    )


def test_same_value_same_pseudonym_and_stable_across_runs():
    """Equal values map to equal pseudonyms; the same salt gives the same output run to run."""
    a = pseudonymize(frame(), salt="k", drop_columns=["备注"]).events
    b = pseudonymize(frame(), salt="k", drop_columns=["备注"]).events
    pd.testing.assert_frame_equal(a, b)
    assert a["resource"].iloc[0] == a["resource"].iloc[2] != a["resource"].iloc[1]
    assert a["resource"].str.startswith("resource-").all()
    assert pd.isna(a["customer_id"].iloc[2])
    assert "备注" not in a.columns
    assert not a.isin(["张伟", "李娜", "C1"]).any().any()


def test_other_salt_other_pseudonyms_input_untouched():
    """Another salt gives other pseudonyms; the input frame is not modified."""
    df = frame()
    before = df.copy()
    a = pseudonymize(df, salt="k").events
    b = pseudonymize(df, salt="other").events
    assert (a["resource"] != b["resource"]).all()
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(a[["activity", "timestamp"]], df[["activity", "timestamp"]])


def test_case_ids_pseudonymised_keep_contract(tmp_path):
    """Pseudonymising case ids keeps a valid sorted log with the same number of cases."""
    (tmp_path / "a.csv").write_text(
        "工单编号,处理环节,处理时间,处理人\nGD1,登记,2024-10-01 09:00,张伟\nGD2,登记,2024-10-01 08:00,李娜\n"
        ",登记,2024-10-01 08:00,李娜\n",
        encoding="utf-8",
    )
    log = svc.read_tickets(tmp_path / "a.csv", timezone=SH)
    out = pseudonymize(log, salt="k", columns=["case_id", "resource"])
    assert out.n_cases == 2
    svc.as_events(out.events)
    assert out.report is not None
    assert out.report.rows_dropped == 1
    assert all(not ex for ex in out.report.dropped["examples"])  # raw values cleared


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"salt": ""}, svc.InvalidParameterError, "non-empty secret"),
        ({"salt": "k", "length": 4}, svc.InvalidParameterError, "between 8 and 64"),
        ({"salt": "k", "columns": ["phone"]}, svc.SchemaError, "no column 'phone'"),
        ({"salt": "k", "drop_columns": ["地址"]}, svc.SchemaError, "no column '地址'"),
    ],
)
def test_parameter_errors(kwargs, error, match):
    """Bad options raise typed errors naming what is wrong."""
    with pytest.raises(error, match=match):
        pseudonymize(frame(), **kwargs)


def test_cli_report_pseudonymize(tmp_path, capsys):
    """svcmining report --pseudonymize writes no customer id or staff name into the report."""
    from svcmining.cli import main

    (tmp_path / "a.csv").write_text(
        "工单编号,处理环节,处理时间,处理人,处理部门,客户编号\n"
        "GD1,投诉登记,2024-10-08 09:00,张伟,客服中心,KH778899\n"
        "GD1,结单,2024-10-08 10:00,李娜,客服中心,KH778899\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.html"
    args = ["report", str(tmp_path / "a.csv"), "--timezone", "Asia/Shanghai", "--out", str(out)]
    assert main([*args, "--pseudonymize"]) == 2  # no salt: bad input, one line
    assert "needs a secret salt" in capsys.readouterr().err
    assert main([*args, "--pseudonymize", "--salt", "k"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "张伟" not in page and "李娜" not in page and "KH778899" not in page
    assert "投诉登记" in page
