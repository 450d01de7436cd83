"""evaluate and export_recommendations on the synthetic world."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Interaction
from recommender import evaluations
from recommender.ml.splits import SCENARIOS
from recommender.models import EvaluationReport, TaskLock
from tasks import locks

pytestmark = pytest.mark.django_db


def test_evaluate_stores_a_report_with_every_method_and_scenario(world, capsys):
    # The hybrid itself is evaluated in tests/recommender/ml; three fits of it here would only add time.
    call_command("evaluate", "--k", "5", "10", "--seeds", "1", "--methods", "random", "popularity", "ease")
    report = EvaluationReport.objects.get()
    assert report.params["ks"] == [5, 10] and report.params["seeds"] == [0]
    assert report.model_version_id == world.version.pk
    scenarios = report.results["scenarios"]
    assert (
        tuple(scenarios)
        == SCENARIOS
        == (
            "warm",
            "item_cold",
            "user_cold",
            "few_shot",
            "user_cold_trained",
            "few_shot_trained",
            "item_cold_trained",
        )
    )
    assert set(scenarios["warm"]) == {"random", "popularity", "ease"}
    metrics = {f"{m}@{k}" for m in ("precision", "recall", "f1", "ndcg", "hit_rate", "coverage") for k in (5, 10)}
    assert metrics <= set(scenarios["warm"]["ease"])
    # The synthetic world has a strong structure: a learned method must beat chance in the warm case. Each
    # user has 2 held-out favourites among the ~20 unseen items of their category and ~107 candidates:
    # ranking that category first (its items are alike) gives about hit_rate@10 0.76 and ndcg@10 0.28,
    # chance about 0.18 and 0.07.
    warm = scenarios["warm"]
    assert warm["ease"]["hit_rate@10"] > 0.6 and warm["random"]["hit_rate@10"] < 0.4
    assert warm["ease"]["ndcg@10"] > 3 * warm["random"]["ndcg@10"]
    out = capsys.readouterr().out
    assert "| ndcg@10 | " + " | ".join(SCENARIOS) + " |" in out
    # each seed's figures, and no verdict on a hybrid that was not evaluated
    ease = report.results["per_seed"]["warm"]["ease"]["ndcg@10"]
    assert ease == [warm["ease"]["ndcg@10"]]
    assert "| ndcg@10, seeds 0 | " + " | ".join(SCENARIOS) + " |" in out
    assert f"| ease | {ease[0]:.4f} |" in out
    assert "| hybrid ahead on every seed | " + " | ".join("—" for _ in SCENARIOS) + " |" in out


def test_export_writes_one_line_per_user_best_first(world, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("u0\nu1\n")
    candidates = tmp_path / "candidates.txt"
    candidates.write_text("\n".join(f"space-{n}" for n in range(30)) + "\n")
    out = tmp_path / "recs.jsonl"
    call_command(
        "export_recommendations",
        "--k", "5", "--users", str(users), "--candidates", str(candidates), "--exclude-seen", "--out", str(out),
    )  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["user"] for line in lines] == ["u0", "u1"]
    for line, user in zip(lines, world.users[:2], strict=True):
        seen = set(Interaction.objects.filter(user=user).values_list("item__external_id", flat=True))
        assert len(line["items"]) == 5 and all(x.startswith("space-") for x in line["items"])
        assert not seen & set(line["items"])


def test_export_names_the_line_of_an_unknown_user_and_writes_nothing(world, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("u0\n\nnobody\n")
    out = tmp_path / "recs.jsonl"
    with pytest.raises(CommandError, match=r"users.txt, line 3: unknown user external id 'nobody'"):
        call_command("export_recommendations", "--users", str(users), "--out", str(out))
    assert not out.exists()


def test_an_evaluation_notes_its_progress_in_its_lease_and_refuses_a_second_one(world, monkeypatch):
    seen = []

    def evaluate(data, *, log, **kwargs):
        log("seed=0 warm popularity")
        seen.append(TaskLock.objects.values("owner", "progress").get(name="evaluation"))
        assert locks.is_held(name="evaluation")
        return {"scenarios": {}}

    monkeypatch.setattr(evaluations, "evaluate", evaluate)
    report = evaluations.evaluation_run(seeds=[0], methods=["popularity"])
    assert seen[0]["progress"] == "seed=0 warm popularity" and seen[0]["owner"].startswith("evaluate-")
    lock = TaskLock.objects.get(name="evaluation")
    assert (lock.owner, lock.expires_at, lock.progress) == ("", None, "") and lock.last_finished_at is not None
    assert EvaluationReport.objects.get() == report

    assert locks.claim(name="evaluation", owner="someone else", lease=evaluations.EVALUATION_LEASE)
    with pytest.raises(CommandError, match="another evaluation is running"):
        call_command("evaluate", "--seeds", "1", "--methods", "popularity")
    assert EvaluationReport.objects.count() == 1
