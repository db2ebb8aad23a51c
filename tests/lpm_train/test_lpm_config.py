import pytest

from lpm_train.cli import COMMANDS, main
from lpm_train.config import ConfigError, load_config, parse_override


def test_default_config_is_the_tiny_cpu_setup():
    config = load_config()
    assert config.data.size == 32 and config.model.hidden == 64 and config.model.depth == 4
    assert config.train.precision == "auto"


def test_overrides_parse_yaml_values_and_nest():
    assert parse_override("model.patch=[1, 8, 8]") == {"model": {"patch": [1, 8, 8]}}
    config = load_config(
        None, ["data.shards=[a.tar, b.tar]", "model.attention=factorised", "train.steps=7", "train.lr=3e-4"]
    )
    assert config.train.lr == pytest.approx(3e-4)
    assert config.data.shards == ["a.tar", "b.tar"]
    assert config.model.attention == "factorised" and config.train.steps == 7


def test_config_file_is_overlaid_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  steps: 11\n  lr: 0.01\nmodel:\n  depth: 3\n")
    config = load_config(path, ["train.steps=12"])
    assert (config.train.steps, config.train.lr, config.model.depth) == (12, 0.01, 3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.stpes=3", "train.stpes: section 'train' has no setting 'stpes'"),
        ("model.attention=sparse", "model.attention: 'sparse' is not one of 'full', 'factorised'"),
        ("train.keep_checkpoints=-1", r"train.keep_checkpoints: -1 is outside the allowed range \[0, None\]"),
        ("train.lr=fast", "train.lr: expected a number"),
        ("nope.x=1", "nope: the config has no setting 'nope'"),
        ("train.steps=many", "train.steps: expected an integer"),
        ("model.hidden=63", "model.hidden"),
        ("data.size=30", "model.patch"),
    ],
)
def test_bad_values_are_errors_that_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--config" in out and "--set" in out


def test_config_errors_exit_with_code_2(capsys):
    assert main(["base", "--set", "train.nope=1"]) == 2
    assert "train.nope: section 'train' has no setting 'nope'" in capsys.readouterr().err


def test_base_without_shards_is_a_clear_error(capsys, tmp_path):
    assert main(["base", "--set", f"train.out_dir={tmp_path}"]) == 1
    assert "data.shards is empty" in capsys.readouterr().err
