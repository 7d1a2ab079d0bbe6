"""rnnlab export RUN --csv: every metrics line is a CSV row, every key a column, nothing lost."""
import csv
import json

from hypothesis import given, strategies as st

from rnnlab.cli import main
from rnnlab.training.export import to_csv

KEYS = ("step", "epoch", "split", "loss", "accuracy", "grad_evals", "wall_time", "lr", "grad_norm")
VALUE = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(
    ["train", "val", "test", "a,b", 'q"uote']))
ROWS = st.lists(st.dictionaries(st.sampled_from(KEYS), VALUE, min_size=1), min_size=1, max_size=8)


@given(ROWS)
def test_the_csv_holds_every_row_and_key_of_the_metrics(rows):
    read = list(csv.DictReader(to_csv(rows).splitlines()))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    assert len(read) == len(rows) and list(read[0]) == columns
    for row, back in zip(rows, read):
        assert back == {k: str(row[k]) if k in row else "" for k in columns}


def test_the_command_writes_metrics_csv_and_refuses_a_folder_without_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    lines = [{"step": 1, "split": "train", "loss": 0.5}, {"step": 1, "split": "val", "loss": 0.25, "accuracy": 0.75}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["export", str(run), "--csv"]) == 0
    assert capsys.readouterr().out.strip() == str(run / "metrics.csv")
    assert (run / "metrics.csv").read_text() == "step,split,loss,accuracy\n1,train,0.5,\n1,val,0.25,0.75\n"
    assert main(["export", str(tmp_path), "--csv"]) == 2
    assert "metrics.jsonl does not exist" in capsys.readouterr().err
    (run / "metrics.jsonl").write_text('{"step": 1}\nnot json\n')
    assert main(["export", str(run), "--csv", "--out", str(tmp_path / "x.csv")]) == 2
    assert "line 2 is not valid JSON" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
