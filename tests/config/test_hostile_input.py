"""Fleet files written to mislead or exhaust the parser: each gets one clear
``file: field: problem; allowed: ...`` error, without a traceback, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from config.fleet import DEFAULT_FLEET, ConfigError, Fleet, FrameworkImage, load_fleet, parse_fleet
from config.reader import MAX_BYTES
from config.regions import partitions, sagemaker_regions

BASE = DEFAULT_FLEET.read_text(encoding="utf-8")
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lmi:0.33.0"
IMAGE_LINE = 'image: {framework: djl-lmi, version: "0.33.0"}'


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "fleet.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def edited(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def error(tmp_path: Path, content: str | bytes) -> str:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    message = str(caught.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    return message


def loaded(tmp_path: Path, content: str) -> Fleet:
    return load_fleet(write(tmp_path, content))


# Duplicate keys -----------------------------------------------------------------------------


def test_a_second_region_is_refused_naming_both_lines(tmp_path: Path) -> None:
    message = error(tmp_path, BASE + "region: eu-west-1\n")
    first = BASE.splitlines().index("region: us-east-1") + 1
    last = len(BASE.splitlines()) + 1
    assert f"region: duplicate key on lines {first} and {last}" in message
    assert "allowed: each key once" in message


def test_a_duplicate_key_deep_in_a_model_names_its_field(tmp_path: Path) -> None:
    message = error(tmp_path, edited("model_gb: 16", "model_gb: 16\n        model_gb: 160"))
    assert "endpoints[0].models[0].model_gb: duplicate key on lines" in message


# YAML 1.1 coercions: text stays as written ---------------------------------------------------


def test_numbers_where_text_is_expected_stay_as_written(tmp_path: Path) -> None:
    text = edited("name: chat", "name: 012")
    text = text.replace(IMAGE_LINE, "image: {framework: djl-lmi, version: 0.30}")
    text = text.replace('OPTION_MAX_MODEL_LEN: "8192"', "OPTION_MAX_MODEL_LEN: 0x2000")
    model = loaded(tmp_path, text).models[0]
    assert model.name == "012"  # YAML 1.1 reads 10 (octal)
    assert model.image == FrameworkImage("djl-lmi", "0.30")  # YAML 1.1 reads 0.3
    assert model.environment["OPTION_MAX_MODEL_LEN"] == "0x2000"


def test_sexagesimal_is_text_not_ninety(tmp_path: Path) -> None:
    message = error(tmp_path, edited("name: chat", "name: 1:30"))
    assert "models[0].name: '1:30' is not a valid SageMaker model name" in message


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "Y"])
def test_yaml_1_1_booleans_are_not_booleans(tmp_path: Path, word: str) -> None:
    message = error(tmp_path, edited("enhanced: true", f"enhanced: {word}"))
    assert f"endpoints[0].metrics.enhanced: must be true or false; got str '{word}'" in message


def test_no_is_not_false_where_text_is_expected(tmp_path: Path) -> None:
    message = error(tmp_path, edited("region: us-east-1", "region: no"))
    assert "region: 'no' is not an AWS region name" in message


# Trailing newlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("name: chat", 'name: "chat\\n"', "endpoints[0].models[0].name"),
        ("name: qwen3-8b", 'name: "qwen3-8b\\n"', "endpoints[0].name"),
        ("region: us-east-1", 'region: "us-east-1\\n"', "region"),
        (IMAGE_LINE, f'image: "{ECR}\\n"', "endpoints[0].models[0].image"),
        ("hf_model_id: Qwen/Qwen3-8B", 'hf_model_id: "Qwen/Qwen3-8B\\n"', "model.hf_model_id"),
    ],
)
def test_a_trailing_newline_does_not_pass_as_the_end(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    message = error(tmp_path, edited(old, new))
    assert f"{field}: " in message
    assert "\\n'" in message  # the value is quoted with its newline visible


# Numbers that are not numbers ---------------------------------------------------------------


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", "1e999"])
def test_nan_and_infinity_are_refused(tmp_path: Path, value: str) -> None:
    message = error(tmp_path, edited("threshold: 8 ", f"threshold: {value} "))
    assert f"scale_out.threshold: must be a finite number; got float {value}" in message


def test_a_5000_digit_integer_is_refused_before_conversion(tmp_path: Path) -> None:
    message = error(tmp_path, edited("max_instances: 8", "max_instances: " + "9" * 5000))
    assert "endpoints[0].max_instances: a number 5000 characters long" in message
    assert "allowed: at most 32 characters" in message


# SageMaker's own limits -----------------------------------------------------------------------


def test_environment_key_sagemaker_rejects(tmp_path: Path) -> None:
    message = error(tmp_path, edited("OPTION_MAX_MODEL_LEN:", "OPTION-MAX-MODEL-LEN:"))
    assert "environment.OPTION-MAX-MODEL-LEN: 'OPTION-MAX-MODEL-LEN' is not an environment" in (
        message
    )
    assert "allowed: a letter or underscore, then letters, digits and underscores" in message


def test_environment_value_longer_than_1024(tmp_path: Path) -> None:
    message = error(tmp_path, edited('"8192"', '"' + "x" * 1025 + '"'))
    assert "environment.OPTION_MAX_MODEL_LEN: a value of 1025 characters" in message
    assert "allowed: at most 1024" in message


def variables(count: int) -> str:
    return "\n".join(f"          V{i}: x" for i in range(count)).lstrip()


def test_environment_of_more_than_100_variables(tmp_path: Path) -> None:
    message = error(tmp_path, edited('OPTION_MAX_MODEL_LEN: "8192"', variables(100)))
    assert "models[0].environment: 101 variables; allowed: at most 100" in message


def test_hf_model_id_counts_toward_the_100_variables(tmp_path: Path) -> None:
    # 98 + OPTION_MAX_ROLLING_BATCH_SIZE + HF_MODEL_ID = 100: fits.
    fits = loaded(tmp_path, edited('OPTION_MAX_MODEL_LEN: "8192"', variables(98)))
    assert len(fits.models[0].environment) == 100
    message = error(tmp_path, edited('OPTION_MAX_MODEL_LEN: "8192"', variables(99)))
    assert "models[0].environment: 100 variables and HF_MODEL_ID; allowed: at most 100" in message


def test_image_uri_longer_than_255(tmp_path: Path) -> None:
    long_uri = ECR.replace("lmi", "l" * 250)
    message = error(tmp_path, edited(IMAGE_LINE, f"image: {long_uri}"))
    assert f"models[0].image: '{long_uri[:60]}'... ({len(long_uri)} characters) is " in message
    assert "allowed: at most 255" in message


def test_ecr_image_in_another_region(tmp_path: Path) -> None:
    elsewhere = ECR.replace("us-east-1", "eu-west-1")
    message = error(tmp_path, edited(IMAGE_LINE, f"image: {elsewhere}"))
    assert f"models[0].image: '{elsewhere}' is in eu-west-1 but the fleet in us-east-1" in message
    assert "allowed: an image in us-east-1" in message
    assert loaded(tmp_path, edited(IMAGE_LINE, f"image: {ECR}")).models[0].image == ECR


def test_empty_model_id(tmp_path: Path) -> None:
    message = error(tmp_path, edited("hf_model_id: Qwen/Qwen3-8B", 'hf_model_id: ""'))
    assert "model.hf_model_id: '' is not a Hugging Face model id" in message


def test_region_that_does_not_exist(tmp_path: Path) -> None:
    message = error(tmp_path, edited("region: us-east-1", "region: us-east-7"))
    assert "region: 'us-east-7' is not an AWS region (did you mean us-east-1?)" in message


def test_region_without_sagemaker(tmp_path: Path) -> None:
    without = sorted(set(partitions()) - sagemaker_regions())
    if not without:
        pytest.skip("botocore's data lists SageMaker in every region")
    message = error(tmp_path, edited("region: us-east-1", f"region: {without[0]}"))
    assert f"region: '{without[0]}' has no SageMaker endpoint" in message


INT32 = "from 1 to 2147483647"


@pytest.mark.parametrize(
    ("old", "new", "field", "allowed"),
    [
        ("max_instances: 8", "max_instances: 99999999999", "endpoints[0].max_instances", INT32),
        ("max: 8, initial", "max: 4294967296, initial", "copies.max", INT32),
        ("max_step_copies: 8", "max_step_copies: 3000000000", "max_step_copies", INT32),
        ("history_ttl_days: 30", "history_ttl_days: 300000", "history_ttl_days", "from 1 to 3653"),
        ("cooldown_minutes: 20", "cooldown_minutes: 99999", "cooldown_minutes", "from 5 to 1440"),
        ("cooldown_s: 300", "cooldown_s: 999999999", "scale_in.cooldown_s", "from 0 to 86400"),
    ],
)
def test_absurd_counts_and_durations(
    tmp_path: Path, old: str, new: str, field: str, allowed: str
) -> None:
    message = error(tmp_path, edited(old, new))
    assert f"{field}: " in message
    assert f"is out of range; allowed: {allowed}" in message


# Files that are not what they claim ---------------------------------------------------------


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    message = error(tmp_path, edited("# The fleet", "# The fleet café").encode("latin-1"))
    assert "(file): byte 0xe9 on line 2 is not UTF-8; allowed: a UTF-8 text file" in message


def test_a_utf16_file(tmp_path: Path) -> None:
    message = error(tmp_path, BASE.encode("utf-16"))
    assert "is not UTF-8" in message


def test_control_characters(tmp_path: Path) -> None:
    message = error(tmp_path, edited("name: chat", "name: ch\x00at"))
    assert "not valid YAML at line" in message
    assert "allowed: printable text" in message


def test_5000_deep_nesting(tmp_path: Path) -> None:
    for deep in ("[" * 5000 + "]" * 5000, "{a: " * 5000 + "1" + "}" * 5000):
        message = error(tmp_path, f"region: {deep}\n")
        assert "nested 17 levels deep; allowed: 16" in message


def test_a_1kb_alias_bomb_fails_at_its_first_anchor_in_bounded_memory(tmp_path: Path) -> None:
    levels = [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = "\n".join(levels) + "\n"
    assert len(bomb) < 1024
    tracemalloc.start()
    try:
        message = error(tmp_path, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "l0: anchor &l0 on line 1; allowed: values written out in full" in message
    assert peak < 5_000_000  # 9^10 expanded strings would take gigabytes


def test_an_alias_alone_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, edited("name: chat", "name: *chat"))
    assert "models[0].name: alias *chat on line" in message


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    message = error(tmp_path, BASE + "#" * (MAX_BYTES + 1) + "\n")
    assert f"(file): more than {MAX_BYTES} bytes; allowed: at most {MAX_BYTES} bytes" in message


def test_an_endless_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="/dev/zero: \\(file\\): more than"):
        load_fleet("/dev/zero")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (BASE + "---\nregion: eu-west-1\n", "(top level): a second YAML document starts on line"),
        (edited("name: chat", "name: !!str chat"), "models[0].name: tag !!str on line"),
        (edited("name: chat", "name: !!python/name:os.system"), "tag !!python/name:os.system"),
        ("? [region]\n: us-east-1\n", "(top level): a key on line 1 is not plain text"),
        ("", "(top level): must be a mapping with keys region, slo, control_plane, endpoints"),
        ("- region\n", "(top level): must be a mapping with keys"),
    ],
)
def test_yaml_features_a_fleet_file_does_not_need(
    tmp_path: Path, content: str, expected: str
) -> None:
    assert expected in error(tmp_path, content)


def test_many_problems_are_listed_one_line_each(tmp_path: Path) -> None:
    text = edited("max_instances: 8", "max_instances: eight")
    text = text.replace("memory_mb: 16384", "memory_mb: lots")
    text = text.replace("log_retention_days: 30", "log_retention_days: 10")
    lines = error(tmp_path, text).splitlines()
    assert len(lines) == 3
    assert [line.split(": ")[1] for line in lines] == [
        "control_plane.log_retention_days",
        "endpoints[0].max_instances",
        "endpoints[0].models[0].memory_mb",
    ]


def test_notification_topic_in_another_partition(tmp_path: Path) -> None:
    topic = "arn:aws-cn:sns:cn-north-1:123456789012:ops"
    message = error(
        tmp_path,
        edited("control_plane:\n", f"control_plane:\n  notifications: {{topic_arn: '{topic}'}}\n"),
    )
    assert f"control_plane.notifications.topic_arn: '{topic}' is not in the fleet's partition" in (
        message
    )


def test_an_integer_past_python_str_limit_in_a_loaded_document() -> None:
    document = yaml.safe_load(BASE)
    document["endpoints"][0]["max_instances"] = 10**5000
    with pytest.raises(ConfigError) as caught:
        parse_fleet(document, Path("doc.yaml"))
    assert "endpoints[0].max_instances: an integer of 16610 bits is out of range" in str(
        caught.value
    )
