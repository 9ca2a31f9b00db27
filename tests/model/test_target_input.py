"""Target input shaping: Input, InputPath and InputTransformer as EventBridge does them.

The examples come from the EventBridge user guide ("Amazon EventBridge input
transformation"), the API reference (InputTransformer), and deliveries recorded
against AWS (LocalStack's AWS-validated snapshots of test_events_inputs.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.errors import InvalidParameterValue, MissingParameter
from eventyard.model.target_input import RESERVED, TargetInput

# The example event of the user guide page.
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
# Its Input Path (the console's name for the InputPathsMap).
EC2_PATHS = {
    "timestamp": "$.time",
    "instance": "$.detail.instance-id",
    "state": "$.detail.state",
    "resource": "$.resources[0]",
}
RULE = {
    "rule_name": "example",
    "rule_arn": "arn:aws:events:us-east-2:123456789012:rule/example",
    "ingestion_time": "2015-11-11T21:29:55Z",
}
EC2_WITHOUT_DETAIL = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detailType": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
}


def transformer(template: str, paths: dict[str, Any] | None = None) -> TargetInput:
    settings: dict[str, Any] = {"InputTemplate": template}
    if paths is not None:
        settings["InputPathsMap"] = paths
    return TargetInput.build(input_transformer=settings)


def render(template: str, event: dict[str, Any], paths: dict[str, Any] | None = None) -> str:
    return transformer(template, paths).render(event, **RULE)


# -- the user guide's examples -------------------------------------------------

USER_GUIDE_EXAMPLES = [
    pytest.param(
        '"instance <instance> is in <state>"',
        '"instance i-0123456789 is in RUNNING"',
        id="simple string",
    ),
    pytest.param(
        '"instance \\"<instance>\\" is in <state>"',
        '"instance \\"i-0123456789\\" is in RUNNING"',
        id="string with escaped quotes",
    ),
    pytest.param(
        '{\n  "instance" : <instance>,\n  "state": <state>\n}',
        '{"instance":"i-0123456789","state":"RUNNING"}',
        id="simple JSON",
    ),
    pytest.param(
        '{\n "instance" : <instance>,\n "state": "<state>",\n'
        ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
        '{"instance":"i-0123456789","state":"RUNNING",'
        '"instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
        id="JSON with strings and variables",
    ),
    pytest.param(
        '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n'
        '  "Transformed" : "Yes"\n}\n',
        '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
        id="JSON with a mix of variables and static information",
    ),
    pytest.param(
        '{\n  "instance" : <instance>,\n  "state": <state>,\n'
        '  "ruleArn" : <aws.events.rule-arn>,\n  "ruleName" : <aws.events.rule-name>,\n'
        '  "originalEvent" : <aws.events.event>\n}',
        json.dumps(
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "ruleArn": "arn:aws:events:us-east-2:123456789012:rule/example",
                "ruleName": "example",
                "originalEvent": EC2_WITHOUT_DETAIL,
            },
            separators=(",", ":"),
        ),
        id="including reserved variables in JSON",
    ),
    pytest.param(
        '"<aws.events.rule-name> triggered"',
        '"example triggered"',
        id="including reserved variables in a string",
    ),
    # The guide prints this one as the CloudWatch Logs target writes it (the timestamp
    # and message unquoted); the generic rendering is the JSON below.
    pytest.param(
        '{\n  "timestamp" : <timestamp>,\n'
        '  "message": "instance \\"<instance>\\" is in <state>"\n}',
        '{"timestamp":"2015-11-11T21:29:54Z",'
        '"message":"instance \\"i-0123456789\\" is in RUNNING"}',
        id="CloudWatch log group",
    ),
]


@pytest.mark.parametrize(("template", "output"), USER_GUIDE_EXAMPLES)
def test_user_guide_examples(template: str, output: str) -> None:
    assert render(template, EC2_EVENT, EC2_PATHS) == output
    json.loads(output)


def test_the_guides_array_index_variable() -> None:
    assert render("<resource>", EC2_EVENT, EC2_PATHS) == json.dumps(EC2_EVENT["resources"][0])


API_REFERENCE_PATHS = {"instance": "$.detail.instance", "status": "$.detail.status"}
API_REFERENCE_EVENT = {"detail": {"instance": "i-1", "status": "stopped"}}


@pytest.mark.parametrize(
    ("template", "output", "is_json"),
    [
        ("<instance> is in state <status>", "i-1 is in state stopped", False),
        ('<instance> is in state "<status>"', 'i-1 is in state "stopped"', False),
        (
            '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<status>\\""}',
            '{"myInstance":"i-1","myStatus":"i-1 is in state \\"stopped\\""}',
            True,
        ),
    ],
)
def test_api_reference_examples(template: str, output: str, is_json: bool) -> None:
    shape = transformer(template, API_REFERENCE_PATHS)
    assert shape.template_is_json is is_json
    assert shape.render(API_REFERENCE_EVENT, **RULE) == output


# -- what AWS delivered (recorded against AWS) ----------------------------------

RECORDED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "4a5b3d26-5a5c-4d6a-9e1c-8f7e6d5c4b3a",
    "detail-type": "core.update-account-command",
    "source": "core.update-account-command",
    "account": "111111111111",
    "time": "date",
    "region": "us-east-1",
    "resources": [],
    "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}},
}
RECORDED_PATHS = {
    "detail-type": "$.detail-type",
    "timestamp": "$.time",
    "command": "$.detail.command",
}
RECORDED_MISSING = {**RECORDED_PATHS, "command": "$.detail.notinmessage"}
STRING_TEMPLATE = (
    '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'
)
JSON_TEMPLATE = '{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}'


@pytest.mark.parametrize(
    ("template", "paths", "output"),
    [
        (
            STRING_TEMPLATE,
            RECORDED_PATHS,
            '"Event of core.update-account-command type, at time date, '
            'info extracted from detail update-account"',
        ),
        (
            STRING_TEMPLATE,
            RECORDED_MISSING,
            '"Event of core.update-account-command type, at time date, '
            'info extracted from detail "',
        ),
        (
            '"{[/Check with special starting characters for event of <detail-type> type"',
            RECORDED_PATHS,
            '"{[/Check with special starting characters for event of '
            'core.update-account-command type"',
        ),
        (
            JSON_TEMPLATE,
            RECORDED_PATHS,
            '{"detailType":"core.update-account-command","time":"date","command":"update-account"}',
        ),
        (
            JSON_TEMPLATE,
            RECORDED_MISSING,
            '{"detailType":"core.update-account-command","time":"date","command":""}',
        ),
    ],
)
def test_recorded_deliveries(template: str, paths: dict[str, str], output: str) -> None:
    assert render(template, RECORDED_EVENT, paths) == output


def test_recorded_predefined_variables_in_a_string() -> None:
    template = (
        '"Message containing all pre defined variables <aws.events.rule-arn> '
        '<aws.events.rule-name> <aws.events.event.ingestion-time>"'
    )
    assert render(template, RECORDED_EVENT) == (
        '"Message containing all pre defined variables '
        'arn:aws:events:us-east-2:123456789012:rule/example example 2015-11-11T21:29:55Z"'
    )


def test_recorded_original_event_and_its_json() -> None:
    template = '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'
    output = json.loads(render(template, RECORDED_EVENT))
    without_detail = {k: v for k, v in RECORDED_EVENT.items() if k != "detail"}
    without_detail["detailType"] = without_detail.pop("detail-type")
    assert output == {"originalEvent": without_detail, "originalEventJson": RECORDED_EVENT}


@pytest.mark.parametrize(
    ("path", "output"),
    [
        (
            "$.detail",
            '{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}',
        ),
        ("$.detail.payload", '{"acc_id":"0a787ecb-4015","sf_id":"baz"}'),
        ("$.detail.payload.sf_id", '"baz"'),
    ],
)
def test_recorded_input_paths(path: str, output: str) -> None:
    assert TargetInput.build(input_path=path).render(RECORDED_EVENT, **RULE) == output


# -- the four kinds ----------------------------------------------------------------


def test_no_settings_send_the_whole_event() -> None:
    shape = TargetInput.build()
    assert shape.kind == "event"
    assert json.loads(shape.render(EC2_EVENT, **RULE)) == EC2_EVENT
    exact = json.dumps(EC2_EVENT, indent=2)
    assert shape.render(EC2_EVENT, **RULE, event_json=exact) == exact


@pytest.mark.parametrize("text", ['{"env": "dev"}', "[1, 2]", '"just a string"', "42", "null"])
def test_input_is_sent_verbatim(text: str) -> None:
    shape = TargetInput.build(input=text)
    assert shape.kind == "input"
    assert shape.render(EC2_EVENT, **RULE) == text


def test_input_path_wildcards_give_arrays_and_missing_gives_null() -> None:
    assert TargetInput.build(input_path="$.detail.*").render(EC2_EVENT, **RULE) == (
        '["i-0123456789","RUNNING"]'
    )
    assert TargetInput.build(input_path="$.detail.absent").render(EC2_EVENT, **RULE) == "null"
    assert TargetInput.build(input_path="$").render(EC2_EVENT, **RULE) == json.dumps(
        EC2_EVENT, separators=(",", ":")
    )


# -- substitution by position ----------------------------------------------------

VALUES_EVENT: dict[str, Any] = {
    "detail": {
        "s": "text",
        "n": 12.5,
        "i": -3,
        "t": True,
        "f": False,
        "z": None,
        "o": {"k": ["v", 1]},
        "a": [1, "two", None],
        "empty": "",
    }
}
VALUE_PATHS = {name: f"$.detail.{name}" for name in VALUES_EVENT["detail"]} | {
    "missing": "$.detail.absent"
}


@pytest.mark.parametrize(
    ("name", "as_value", "in_string", "in_text"),
    [
        ("s", '"text"', "text", "text"),
        ("n", "12.5", "12.5", "12.5"),
        ("i", "-3", "-3", "-3"),
        ("t", "true", "true", "true"),
        ("f", "false", "false", "false"),
        ("z", "null", "null", "null"),
        ("o", '{"k":["v",1]}', '{\\"k\\":[\\"v\\",1]}', '{"k":["v",1]}'),
        ("a", '[1,"two",null]', '[1,\\"two\\",null]', '[1,"two",null]'),
        ("empty", '""', "", ""),
        ("missing", '""', "", ""),
    ],
)
def test_each_kind_of_value_in_each_position(
    name: str, as_value: str, in_string: str, in_text: str
) -> None:
    assert render(f'{{"v": <{name}>}}', VALUES_EVENT, VALUE_PATHS) == f'{{"v":{as_value}}}'
    assert render(f"[<{name}>]", VALUES_EVENT, VALUE_PATHS) == f"[{as_value}]"
    assert render(f"<{name}>", VALUES_EVENT, VALUE_PATHS) == as_value
    assert render(f'{{"v": "[<{name}>]"}}', VALUES_EVENT, VALUE_PATHS) == f'{{"v":"[{in_string}]"}}'
    assert render(f"value: <{name}>.", VALUES_EVENT, VALUE_PATHS) == f"value: {in_text}."
    json.loads(render(f'{{"v": <{name}>, "w": "<{name}>"}}', VALUES_EVENT, VALUE_PATHS))


@pytest.mark.parametrize(
    "value",
    [
        'say "hi"',
        "back\\slash",
        "C:\\path\\to",
        "line\nbreak\r\n",
        "tab\there",
        "bell\x07 nul\x00 esc\x1b",
        "\u2028 line separator \u2029",
        "ünïcödé, 中文, عربى",
        "emoji 🎉 beyond the BMP 𝄞",
        "</script><b>",
        '\\"',
        "",
    ],
)
def test_strings_are_escaped_inside_json_strings_and_round_trip(value: str) -> None:
    event = {"detail": {"v": value}}
    paths = {"v": "$.detail.v"}
    output = render('{"inside": "<v>", "whole": <v>, "twice": "<v><v>"}', event, paths)
    assert json.loads(output) == {"inside": value, "whole": value, "twice": value + value}
    assert render('"said: <v>"', event, paths) == json.dumps("said: " + value, ensure_ascii=False)
    assert render("free <v> text", event, paths) == f"free {value} text"


def test_unicode_is_kept_as_characters() -> None:
    output = render('{"v": <v>}', {"v": "café ☕"}, {"v": "$.v"})
    assert output == '{"v":"café ☕"}'


def test_template_literals_are_kept_as_written_and_only_minified() -> None:
    template = '{ "a b" : "  spaced  \\u0041\\n" ,\n\t"n": [ 1 , 2.5e3 , -0 ] , "e": {} , "l": [] }'
    assert render(template, {}) == '{"a b":"  spaced  \\u0041\\n","n":[1,2.5e3,-0],"e":{},"l":[]}'


def test_free_text_is_kept_as_written() -> None:
    template = '  Two  spaces, a {brace, "quotes" and\na newline: <v>  '
    assert (
        render(template, {"v": 1}, {"v": "$.v"})
        == '  Two  spaces, a {brace, "quotes" and\na newline: 1  '
    )


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ('{"html": "a < b > c"}', '{"html":"a < b > c"}'),
        ('{"html": "</b> <a b> <>"}', '{"html":"</b> <a b> <>"}'),
        ("if a < b and c > d: </p>", "if a < b and c > d: </p>"),
    ],
)
def test_angle_brackets_that_are_not_placeholders_are_text(template: str, output: str) -> None:
    assert render(template, {}) == output


def test_static_json_templates_need_no_variables() -> None:
    assert render('{"static": true}', EC2_EVENT) == '{"static":true}'
    assert render(" 42 ", EC2_EVENT) == "42"


def test_unused_variables_are_allowed() -> None:
    assert render('"<state>"', EC2_EVENT, EC2_PATHS) == '"RUNNING"'


def test_wildcard_variables_give_arrays() -> None:
    output = render('{"all": <all>, "s": "<all>"}', EC2_EVENT, {"all": "$.detail.*"})
    assert output == '{"all":["i-0123456789","RUNNING"],"s":"[\\"i-0123456789\\",\\"RUNNING\\"]"}'


def test_event_json_is_inserted_exactly_when_given() -> None:
    exact = '{"detail": {"n": 1.50}}'
    shape = transformer('{"e": <aws.events.event.json>}')
    assert shape.render({"detail": {"n": 1.5}}, **RULE, event_json=exact) == f'{{"e":{exact}}}'
    assert shape.render({"detail": {"n": 1.5}}, **RULE) == '{"e":{"detail":{"n":1.5}}}'
    assert (
        transformer("<aws.events.event.json>").render(EC2_EVENT, **RULE, event_json=exact) == exact
    )


def test_ingestion_time_and_rule_in_every_position() -> None:
    template = (
        '{"t": <aws.events.event.ingestion-time>, "s": "at <aws.events.event.ingestion-time>", '
        '"r": [<aws.events.rule-name>, <aws.events.rule-arn>]}'
    )
    assert json.loads(render(template, EC2_EVENT)) == {
        "t": RULE["ingestion_time"],
        "s": "at " + RULE["ingestion_time"],
        "r": [RULE["rule_name"], RULE["rule_arn"]],
    }
    assert render("<aws.events.rule-name>: <aws.events.rule-arn>", EC2_EVENT) == (
        f"{RULE['rule_name']}: {RULE['rule_arn']}"
    )


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"input": "{}", "input_path": "$"}, "only one of .* got input and input_path"),
        (
            {"input": "{}", "input_transformer": {"InputTemplate": "x"}},
            "got input and input_transformer",
        ),
        (
            {"input_path": "$", "input_transformer": {"InputTemplate": "x"}},
            "got input_path and input_transformer",
        ),
        ({"input": "env:dev"}, "input 'env:dev' is not valid JSON text"),
        ({"input": ""}, "input '' is not valid JSON text"),
        ({"input": 5}, "input must be JSON text"),
        ({"input": '"' + "x" * 8191 + '"'}, "has 8193 characters; it may have at most 8192"),
        ({"input_path": "detail"}, "input_path 'detail' is not a JSONPath"),
        ({"input_path": "$.a[-1]"}, "input_path '\\$.a\\[-1\\]' is not a JSONPath"),
        ({"input_transformer": "<x>"}, "input_transformer must be a mapping"),
        ({"input_transformer": {}}, "input_transformer.input_template is required"),
        ({"input_transformer": {"InputPathsMap": {}}}, "input_template is required"),
        ({"input_transformer": {"Template": "x"}}, "unknown key 'Template'"),
        (
            {"input_transformer": {"InputTemplate": "x", "input_template": "y"}},
            "gives input_template twice",
        ),
        ({"input_transformer": {"InputTemplate": 7}}, "input_template must be a string"),
        ({"input_transformer": {"InputTemplate": ""}}, "has 0 characters; it must have 1 to 8192"),
        (
            {"input_transformer": {"InputTemplate": "x" * 8193}},
            "has 8193 characters; it must have 1 to 8192",
        ),
        (
            {"input_transformer": {"InputTemplate": "x", "InputPathsMap": ["$.a"]}},
            "input_paths_map must map variable names to JSONPaths",
        ),
    ],
)
def test_invalid_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        TargetInput.build(**settings)


def test_a_missing_template_is_a_missing_parameter() -> None:
    with pytest.raises(MissingParameter):
        TargetInput.build(input_transformer={"InputPathsMap": {"a": "$.a"}})


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            {f"v{i}": "$.a" for i in range(101)},
            "input_paths_map has 101 entries; it may have at most 100",
        ),
        ({"aws.events.rule-name": "$.a"}, "variable 'aws.events.rule-name' is reserved"),
        ({"AWS.mine": "$.a"}, "variable 'AWS.mine' is reserved"),
        ({"a.b": "$.a"}, "variable 'a.b' must be 1 to 256 characters of letters, digits"),
        ({"has space": "$.a"}, "variable 'has space' must be 1 to 256"),
        ({"ünï": "$.a"}, "variable 'ünï' must be 1 to 256"),
        ({"": "$.a"}, "variable '' must be 1 to 256"),
        ({"v" * 257: "$.a"}, "must be 1 to 256"),
        ({1: "$.a"}, "variable names must be strings"),
        (
            {"x": "$.detail[*"},
            r'input_transformer\.input_paths_map\["x"\] \'\$\.detail\[\*\' is not a JSONPath',
        ),
        ({"x": "$['detail']"}, r'input_paths_map\["x"\] .* \(use dot notation for names\)'),
        ({"x": "$.a..b"}, r'input_paths_map\["x"\] .* deep scan'),
        ({"x": None}, r'input_paths_map\["x"\] must be a string JSONPath'),
        ({"x": "$." + "a" * 255}, r'input_paths_map\["x"\] .* has 257 characters'),
    ],
)
def test_invalid_paths_maps_name_the_variable_and_the_path(
    paths: dict[Any, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        transformer('"x"', paths)


def test_limits_are_inclusive() -> None:
    paths = {f"v{i}": "$.a" for i in range(100)} | {"w" * 256: "$." + "a" * 254}
    paths.pop("v0")
    shape = transformer("x" * 8192, paths)
    assert shape.render({}, **RULE) == "x" * 8192
    assert TargetInput.build(input='"' + "x" * 8190 + '"').kind == "input"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('"<x>"', "input template refers to undefined variable <x>"),
        ("<x> and <y>", "undefined variable <x>"),
        ('{"a": <state>, "b": "<nope>"}', "undefined variable <nope>"),
        ("<aws.events.unknown>", "undefined variable <aws.events.unknown>"),
        ("<State>", "undefined variable <State>"),
    ],
)
def test_undefined_variables_are_refused(template: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message) as caught:
        transformer(template, {"state": "$.detail.state"})
    assert str(caught.value).startswith("input_transformer.input_template: ")
    assert "defines: state" in str(caught.value)


@pytest.mark.parametrize(
    ("template", "where"),
    [
        ('"<aws.events.event>"', "inside a JSON string"),
        ('{"e": "copy: <aws.events.event.json>"}', "inside a JSON string"),
        ("event: <aws.events.event>", "in a free-text template"),
        ("<aws.events.event.json>!", "in a free-text template"),
    ],
)
def test_the_event_variables_only_stand_as_json_values(template: str, where: str) -> None:
    with pytest.raises(
        InvalidParameterValue, match=f"may only stand as a JSON value .* not {where}"
    ):
        transformer(template)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{<state>: 1}", "a placeholder cannot be used as an object key"),
        ('{"a": 1, <state>: 2}', "a placeholder cannot be used as an object key"),
        ('{"<state>": 1}', "a placeholder cannot be used in an object key"),
        ('{"k-<state>": 1}', "a placeholder cannot be used in an object key"),
        ('{"a": 1,}', "an object key"),
        ('{"a": 1', "',' or '}' is expected, found the end"),
        ('{"a" 1}', "':' is expected"),
        ('{"a": }', "a JSON value is expected, found '}'"),
        ('{"a": <state> <state>}', "',' or '}' is expected"),
        ("[1, 2", "',' or ']' is expected"),
        ("[<state>,]", "a JSON value is expected, found ']'"),
        ('{"a": "unclosed}', "the string is not closed"),
        ('{"a": "bad \\q escape"}', "invalid escape"),
        ('{"a": "\\u12G4"}', "invalid escape"),
        ('{"a": "raw\ttab"}', "control character"),
        ('{"a": tru}', "a JSON value is expected"),
        ('{"a": 01}', "',' or '}' is expected"),
        ('{"a": <not a placeholder>}', "'<' does not open a placeholder"),
        ('{"a": 1} trailing', "there is text after the JSON value"),
        ("{'a': 1}", "an object key"),
    ],
)
def test_templates_that_start_as_json_must_be_json(template: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue, match=reason) as caught:
        transformer(template, {"state": "$.detail.state"})
    assert "starts as JSON but is not valid JSON" in str(caught.value)
    assert "(at character " in str(caught.value)


@pytest.mark.parametrize(
    "template",
    ['"<state>" is "<state>"', '"unclosed <state>', "plain <state>", "   ", '"bad \\q" <state>'],
)
def test_other_non_json_templates_are_free_text(template: str) -> None:
    shape = transformer(template, {"state": "$.detail.state"})
    assert not shape.template_is_json
    assert shape.render(EC2_EVENT, **RULE) == template.replace("<state>", "RUNNING")


# -- persistence -------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"input": '{"a": 1}'},
        {"input_path": "$.detail.items[0]"},
        {
            "input_transformer": {
                "InputPathsMap": EC2_PATHS,
                "InputTemplate": USER_GUIDE_EXAMPLES[5].values[0],
            }
        },
        {"input_transformer": {"input_template": '"<aws.events.rule-name>"'}},
    ],
)
def test_to_json_round_trips(settings: dict[str, Any]) -> None:
    shape = TargetInput.build(**settings)
    again = TargetInput.from_json(shape.to_json())
    assert again == shape
    assert again.render(EC2_EVENT, **RULE) == shape.render(EC2_EVENT, **RULE)
    assert again.template_is_json == shape.template_is_json


def test_to_json_is_stable_and_snake_case() -> None:
    shape = transformer('"<b> <a>"', {"b": "$.b", "a": "$.a"})
    assert shape.to_json() == (
        '{"input_transformer":{"input_paths_map":{"a":"$.a","b":"$.b"},'
        '"input_template":"\\"<b> <a>\\""}}'
    )
    assert shape == transformer('"<b> <a>"', {"a": "$.a", "b": "$.b"})
    assert shape != transformer('"<a> <b>"', {"a": "$.a", "b": "$.b"})


@pytest.mark.parametrize("text", ["[]", '{"other": 1}', '{"input": "not json"}'])
def test_from_json_checks_what_it_reads(text: str) -> None:
    with pytest.raises(InvalidParameterValue):
        TargetInput.from_json(text)


def test_reserved_names_are_the_documented_five() -> None:
    assert RESERVED == (
        "aws.events.rule-arn",
        "aws.events.rule-name",
        "aws.events.event.ingestion-time",
        "aws.events.event",
        "aws.events.event.json",
    )


# -- properties ----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "detail"]) | st.text(max_size=3), inner, max_size=3
        )
    ),
    max_leaves=12,
)
events = st.dictionaries(
    st.sampled_from(["a", "b", "detail", "detail-type", "x/y"]) | st.text(max_size=4),
    json_values,
    max_size=5,
)
PROPERTY_PATHS = {
    "whole": "$",
    "a": "$.a",
    "b0": "$.b[0]",
    "deep": "$.detail.a.b",
    "all": "$.detail.*",
    "each": "$.a[*].c",
    "dt": "$.detail-type",
    "slash": "$.x/y",
}
STRING_SAFE = [
    *PROPERTY_PATHS,
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
]
VALUE_SAFE = [*STRING_SAFE, "aws.events.event", "aws.events.event.json"]
whitespace = st.sampled_from(["", " ", "\n", "\t", " \r\n "])


@st.composite
def json_templates(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 4 if depth < 3 else 2))
    if kind == 0:
        return json.dumps(draw(json_scalars), ensure_ascii=draw(st.booleans()))
    if kind == 1:
        return f"<{draw(st.sampled_from(VALUE_SAFE))}>"
    if kind == 2:
        pieces = draw(
            st.lists(
                st.text(max_size=4).map(lambda s: json.dumps(s)[1:-1])
                | st.sampled_from(STRING_SAFE).map(lambda name: f"<{name}>"),
                max_size=4,
            )
        )
        return '"' + "".join(pieces) + '"'
    items = draw(st.lists(json_templates(depth + 1), max_size=3))
    space = draw(whitespace)
    if kind == 3:
        return "[" + space + ("," + space).join(items) + space + "]"
    keys = draw(st.lists(st.text(max_size=3), min_size=len(items), max_size=len(items)))
    members = [f"{json.dumps(k)}{space}:{space}{v}" for k, v in zip(keys, items, strict=True)]
    return "{" + space + ("," + space).join(members) + space + "}"


@given(json_templates(), events, st.booleans())
def test_json_templates_always_render_valid_json(
    template: str, event: dict[str, Any], exact: bool
) -> None:
    shape = transformer(template, PROPERTY_PATHS)
    assert shape.template_is_json
    output = shape.render(event, **RULE, event_json=json.dumps(event) if exact else None)
    json.loads(output)
    assert output == output.strip()


# The prefix is literal text: a "<name>" in it would be a placeholder of its own.
@given(json_values, st.text(max_size=6).filter(lambda text: "<" not in text))
def test_values_survive_a_round_trip_through_a_template(value: Any, prefix: str) -> None:
    event = {"detail": {"v": value}}
    quoted = json.dumps(prefix)[1:-1]
    output = json.loads(
        render(f'{{"whole": <v>, "inside": "{quoted}<v>"}}', event, {"v": "$.detail.v"})
    )
    assert output["whole"] == value
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    )
    assert output["inside"] == prefix + text


@given(events)
def test_input_paths_always_render_valid_json(event: dict[str, Any]) -> None:
    for path in PROPERTY_PATHS.values():
        json.loads(TargetInput.build(input_path=path).render(event, **RULE))
