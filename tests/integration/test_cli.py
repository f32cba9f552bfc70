from coolkeras.cli.main import main


def test_demo_runs(capsys):
    assert main(["demo", "--epochs", "1"]) == 0
    assert "reloaded_with_safe_mode_matches: True" in capsys.readouterr().out


def test_bad_epochs_is_refused(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    assert "Received: 0" in capsys.readouterr().err
