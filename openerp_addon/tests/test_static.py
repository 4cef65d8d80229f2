"""Static checks of the addon, run without Odoo.

They catch what would make the module fail to install or behave differently from the contract:
XML that does not parse, views naming fields or methods that do not exist, data files missing
from the manifest or loaded before what they refer to, models without access rules, and Python
definitions that drifted from ``openerp_addon/contract.json`` (which the Rust server reads).
"""

import ast
import json
import py_compile
import re
from pathlib import Path

import pytest

from addon_source import (
    ADDON_DIR,
    ADDON_ROOT,
    CONTRACT_PATH,
    MAGIC_FIELDS,
    MISSING,
    MODULE,
    NOT_LITERAL,
    access_rows,
    class_methods,
    data_files,
    manifest,
    model_xmlid,
    parse_models,
    parse_xml,
    python_files,
    record_field,
    refs_in_element,
    xml_files,
)

#: Ids of other modules the addon refers to, each checked by hand against the Odoo 17 sources.
#: Add to this list only after checking the id exists in Odoo 17.
KNOWN_EXTERNAL_IDS = {
    "base.group_system",
    "base.group_user",
    "base.group_multi_company",
    "base.user_root",
    "base.user_admin",
    "product.product_template_form_view",
    "product.product_template_tree_view",
    "product.product_category_form_view",
    "product.model_product_template",
    "product.model_product_product",
    "product.model_product_category",
    "account.view_tax_form",
}

#: Relations of fields of Odoo's own models that contract ``related`` paths go through.
KNOWN_EXTERNAL_RELATIONS = {("product.product", "product_tmpl_id"): "product.template"}

#: ``ir.model`` external ids of Odoo models the addon's data refers to.
EXTERNAL_MODEL_IDS = {
    "product.model_product_template": "product.template",
    "product.model_product_product": "product.product",
    "product.model_product_category": "product.category",
}

VIEW_TAGS = {"tree", "list", "form", "kanban", "search", "graph", "pivot", "calendar", "activity"}
EXPRESSION_ATTRS = {"invisible", "readonly", "required", "column_invisible"}
EVAL_NAMES = {
    "True",
    "False",
    "None",
    "context",
    "uid",
    "parent",
    "active_id",
    "active_ids",
    "active_model",
    "today",
    "now",
    "context_today",
    "current_date",
    "datetime",
    "relativedelta",
    "time",
    "allowed_company_ids",
}

MODELS = parse_models()


def _rel(path):
    return str(Path(path).relative_to(ADDON_ROOT))


def _qualify(xmlid):
    return xmlid if "." in xmlid else "%s.%s" % (MODULE, xmlid)


def _local_model_ids():
    return {"%s.%s" % (MODULE, model_xmlid(m.name)): m.name for m in MODELS.values() if m.new}


def _model_of_ref(xmlid):
    xmlid = _qualify(xmlid)
    return _local_model_ids().get(xmlid) or EXTERNAL_MODEL_IDS.get(xmlid)


def _view_records():
    for path in xml_files():
        for record in parse_xml(path).iter("record"):
            if record.get("model") == "ir.ui.view":
                yield path, record


def _records_of(model):
    for path in xml_files():
        for record in parse_xml(path).iter("record"):
            if record.get("model") == model:
                yield path, record


# ---------------------------------------------------------------------- python


@pytest.mark.parametrize("path", python_files(ADDON_ROOT), ids=_rel)
def test_every_python_file_compiles(path, tmp_path):
    py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_connector_client_does_not_import_odoo():
    imports = _imports(ADDON_DIR / "connector_client.py")
    assert not {name for name in imports if name == "odoo" or name.startswith("odoo.")}


def test_only_connector_client_speaks_xml_rpc():
    offenders = [
        _rel(path)
        for path in python_files()
        if path.name != "connector_client.py"
        and any(name.split(".")[0] in ("xmlrpc", "http", "urllib", "requests", "socket") for name in _imports(path))
    ]
    assert offenders == []


def test_every_python_module_is_imported_by_its_package():
    for package in [ADDON_DIR] + [p for p in ADDON_DIR.iterdir() if (p / "__init__.py").is_file()]:
        tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
            for alias in node.names
        }
        expected = {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
        expected |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
        if package == ADDON_DIR:
            # Not Odoo code: the manifest is read as data, the client is imported by the models.
            expected -= {"__manifest__", "connector_client"}
        assert imported == expected, "%s/__init__.py imports %s, expected %s" % (
            _rel(package),
            sorted(imported),
            sorted(expected),
        )


def test_every_model_has_a_description():
    missing = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            assigned = {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
            if "_name" in assigned and "_description" not in assigned:
                missing.append("%s:%s" % (_rel(path), cls.name))
    assert missing == []


#: Attributes of Odoo 17's ``BaseModel`` a field must not shadow (``mapped``, ``filtered``...).
BASE_MODEL_ATTRIBUTES = {
    "browse", "check_access_rights", "check_access_rule", "concat", "copy", "copy_data", "create",
    "default_get", "ensure_one", "env", "exists", "fields_get", "filtered", "filtered_domain",
    "flush_model", "flush_recordset", "get_metadata", "grouped", "ids", "invalidate_model",
    "invalidate_recordset", "mapped", "modified", "name_create", "name_search", "new", "pool",
    "read", "read_group", "search", "search_count", "search_fetch", "search_read", "sorted",
    "sudo", "union", "unlink", "update", "user_has_groups", "web_read", "web_save", "with_company",
    "with_context", "with_env", "with_prefetch", "with_user", "write",
}


def test_no_field_shadows_an_orm_method():
    clashes = [
        "%s.%s" % (model.name, name)
        for model in MODELS.values()
        for name in model.fields
        if name in BASE_MODEL_ATTRIBUTES or name.startswith("_")
    ]
    assert clashes == []


def test_models_call_only_client_methods_that_exist():
    client_methods = class_methods(ADDON_DIR / "connector_client.py", "ConnectorClient")
    helpers = {"_call", "_run_job", "_start_run", "_try_start", "_cron_start"}
    used = []
    for path in python_files():
        if path.name == "connector_client.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in helpers
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.append((node.args[0].value, "%s:%s" % (_rel(path), node.lineno)))
    assert used, "the models call the server through _call/_run_job"
    assert [u for u in used if u[0] not in client_methods] == []
    export_jobs = ast.literal_eval(
        re.search(r"^JOBS = (\{.*?\})$", (ADDON_DIR / "models" / "magento_export_request.py").read_text(), re.M | re.S).group(1)
    )
    assert set(export_jobs.values()) <= client_methods


# ---------------------------------------------------------------------- manifest and data files


def test_manifest_is_an_odoo_17_module():
    data = manifest()
    assert re.fullmatch(r"17\.0\.\d+\.\d+\.\d+", data["version"]), data["version"]
    assert data["version"] == "17.0.1.0.0"
    assert {"sale_management", "stock", "account"} <= set(data["depends"])
    assert data["license"] in ("LGPL-3", "AGPL-3")
    assert data["installable"] is True
    assert data["name"]


def test_manifest_lists_every_data_file_and_each_exists():
    listed = manifest()["data"]
    assert len(listed) == len(set(listed)), "a data file is listed twice"
    missing = [f for f in listed if not (ADDON_DIR / f).is_file()]
    assert missing == []
    assert sorted(listed) == data_files()


def test_file_and_directory_names_follow_oca_rules():
    bad = [
        _rel(p)
        for p in ADDON_DIR.rglob("*")
        if "__pycache__" not in p.parts
        and p.name not in ("__init__.py", "__manifest__.py", "ir.model.access.csv", "README.rst")
        and not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9]+)?", p.name)
    ]
    assert bad == []


@pytest.mark.parametrize("path", xml_files(), ids=_rel)
def test_every_xml_file_parses(path):
    root = parse_xml(path)
    assert root.tag == "odoo"


@pytest.mark.parametrize("path", xml_files(), ids=_rel)
def test_views_use_odoo_17_syntax(path):
    for element in parse_xml(path).iter():
        assert "attrs" not in element.attrib, "%s: attrs= on <%s> (removed in Odoo 17)" % (_rel(path), element.tag)
        assert "states" not in element.attrib, "%s: states= on <%s> (removed in Odoo 17)" % (_rel(path), element.tag)
        assert element.tag != "list", "%s: <list> is Odoo 18; Odoo 17 uses <tree>" % _rel(path)


def test_data_files_refer_only_to_ids_defined_before_them():
    defined = set(_local_model_ids())
    problems = []
    for name in manifest()["data"]:
        path = ADDON_DIR / name
        if path.suffix == ".csv":
            for row in access_rows():
                for key in ("model_id:id", "group_id:id"):
                    if row.get(key) and _qualify(row[key]) not in defined | KNOWN_EXTERNAL_IDS:
                        problems.append("%s: %s %s" % (name, key, row[key]))
            continue
        for element in parse_xml(path).iter():
            for xmlid, what in refs_in_element(element):
                qualified = _qualify(xmlid)
                if qualified.startswith(MODULE + "."):
                    if qualified not in defined:
                        problems.append("%s: %s %s is not defined before" % (name, what, xmlid))
                elif qualified not in KNOWN_EXTERNAL_IDS:
                    problems.append("%s: %s %s is not a known Odoo 17 id" % (name, what, xmlid))
            if element.tag in ("record", "menuitem", "template") and element.get("id"):
                qualified = _qualify(element.get("id"))
                if qualified in defined and not qualified.split(".")[1].startswith("model_"):
                    problems.append("%s: id %s defined twice" % (name, element.get("id")))
                defined.add(qualified)
    assert problems == []


# ---------------------------------------------------------------------- views


def _expression_names(source, where):
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise AssertionError("%s: %r is not a Python expression: %s" % (where, source, err))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - EVAL_NAMES


class _ViewChecker:
    def __init__(self, where, inherited):
        self.where = where
        self.inherited = inherited
        self.problems = []

    def fields_of(self, model):
        if model not in MODELS:
            self.problems.append("%s: model %s is not defined by the addon" % (self.where, model))
            return None
        return set(MODELS[model].fields) | MAGIC_FIELDS

    def scope(self, root, model):
        known = self.fields_of(model)
        if known is None:
            return
        declared, used, labels = set(), [], []

        def visit(element):
            for attr, value in element.attrib.items():
                if attr in EXPRESSION_ATTRS or attr.startswith("decoration-") or (
                    attr in ("domain", "context") and element.tag == "field"
                ):
                    used.extend((n, attr, element.tag) for n in _expression_names(value, self.where))
            subviews = []
            if element.tag == "field" and "position" not in element.attrib:
                name = element.get("name")
                if name not in known:
                    self.problems.append("%s: field %s does not exist on %s" % (self.where, name, model))
                else:
                    declared.add(name)
                    subviews = [c for c in element if c.tag in VIEW_TAGS]
                    if subviews:
                        fdef = MODELS[model].fields.get(name)
                        relation = getattr(fdef, "relation", None)
                        for sub in subviews:
                            self.scope(sub, relation)
            elif element.tag == "button" and element.get("type") == "object":
                if element.get("name") not in MODELS[model].methods:
                    self.problems.append(
                        "%s: button %s is not a method of %s" % (self.where, element.get("name"), model)
                    )
            elif element.tag == "label" and element.get("for"):
                labels.append(element.get("for"))
            for child in element:
                if child not in subviews:
                    visit(child)

        visit(root)
        for name, attr, tag in used:
            if name not in known:
                self.problems.append("%s: %s of <%s> uses %s, not a field of %s" % (self.where, attr, tag, name, model))
            elif not self.inherited and name not in declared:
                self.problems.append("%s: %s of <%s> uses %s, missing from the view" % (self.where, attr, tag, name))
        for name in labels:
            if name not in declared and not self.inherited:
                self.problems.append("%s: <label for=%s> has no such field in the view" % (self.where, name))


def test_views_reference_existing_fields_and_methods():
    problems = []
    count = 0
    for path, record in _view_records():
        model = record_field(record, "model").text.strip()
        arch = record_field(record, "arch")
        inherited = record_field(record, "inherit_id") is not None
        checker = _ViewChecker("%s#%s" % (_rel(path), record.get("id")), inherited)
        roots = list(arch)
        assert roots, "%s: empty arch" % checker.where
        if not inherited:
            assert len(roots) == 1 and roots[0].tag in VIEW_TAGS, checker.where
        for root in roots:
            checker.scope(root, model)
        problems.extend(checker.problems)
        count += 1
    assert count >= 10
    assert problems == []


def test_inherited_views_only_add_the_addons_own_fields():
    for path, record in _view_records():
        if record_field(record, "inherit_id") is None:
            continue
        model = record_field(record, "model").text.strip()
        own = set(MODELS[model].fields)
        for element in (f for root in record_field(record, "arch") for f in root.iter("field")):
            if "position" not in element.attrib:
                assert element.get("name") in own, "%s adds %s" % (_rel(path), element.get("name"))


def test_token_is_shown_to_administrators_only_and_masked():
    assert MODELS["magento.backend"].fields["connector_token"].groups == "base.group_system"
    shown = 0
    for path, record in _view_records():
        for element in (f for root in record_field(record, "arch") for f in root.iter("field")):
            if element.get("name") == "connector_token":
                shown += 1
                assert element.get("groups") == "base.group_system", _rel(path)
                assert element.get("password") in ("True", "1"), _rel(path)
    assert shown == 1


def test_actions_open_models_the_addon_defines():
    for path, record in _records_of("ir.actions.act_window"):
        res_model = record_field(record, "res_model").text.strip()
        assert res_model in MODELS and MODELS[res_model].new, "%s: %s" % (_rel(path), res_model)


def test_server_actions_call_existing_methods():
    count = 0
    for path, record in _records_of("ir.actions.server"):
        model = _model_of_ref(record_field(record, "model_id").get("ref"))
        assert model in MODELS, "%s: unknown model_id" % record.get("id")
        code = record_field(record, "code").text.strip()
        match = re.fullmatch(r"action = (records|model)\.(\w+)\(\)", code)
        assert match, "%s: unexpected code %r" % (record.get("id"), code)
        assert match.group(2) in MODELS[model].methods, "%s: %s.%s" % (record.get("id"), model, match.group(2))
        binding = record_field(record, "binding_model_id")
        if binding is not None:
            assert _model_of_ref(binding.get("ref")) == model
            assert record_field(record, "binding_view_types").text.strip() == "list,form"
        count += 1
    assert count >= 5


def test_crons_are_inactive_and_call_existing_methods():
    crons = list(_records_of("ir.cron"))
    assert len(crons) == 4
    intervals = set()
    for path, record in crons:
        assert record_field(record, "active").get("eval") == "False", record.get("id")
        assert record_field(record, "numbercall").text.strip() == "-1", record.get("id")
        interval_type = record_field(record, "interval_type").text.strip()
        assert interval_type in ("minutes", "hours", "days", "weeks", "months")
        intervals.add((int(record_field(record, "interval_number").text), interval_type))
        model = _model_of_ref(record_field(record, "model_id").get("ref"))
        match = re.fullmatch(r"model\.(\w+)\(\)", record_field(record, "code").text.strip())
        assert match and match.group(1) in MODELS[model].methods, record.get("id")
    assert {(15, "minutes"), (1, "hours"), (1, "days")} <= intervals


# ---------------------------------------------------------------------- security


def test_access_rules_cover_every_new_model_with_existing_groups():
    rows = access_rows()
    assert list(rows[0]) == [
        "id",
        "name",
        "model_id:id",
        "group_id:id",
        "perm_read",
        "perm_write",
        "perm_create",
        "perm_unlink",
    ]
    assert len({r["id"] for r in rows}) == len(rows)
    groups = {
        record.get("id")
        for record in parse_xml(ADDON_DIR / "security" / "magento_security.xml").iter("record")
        if record.get("model") == "res.groups"
    }
    assert groups == {"group_magento_user", "group_magento_manager"}
    by_model_id = {model_xmlid(m.name): m for m in MODELS.values() if m.new}
    covered = set()
    for row in rows:
        assert row["model_id:id"] in by_model_id, row["id"]
        assert row["group_id:id"] in groups, row["id"]
        assert {row[k] for k in ("perm_read", "perm_write", "perm_create", "perm_unlink")} <= {"0", "1"}
        covered.add(row["model_id:id"])
    assert covered == set(by_model_id)


def test_manager_implies_user_and_settings_are_read_only_for_users():
    security = parse_xml(ADDON_DIR / "security" / "magento_security.xml")
    manager = next(r for r in security.iter("record") if r.get("id") == "group_magento_manager")
    assert "ref('group_magento_user')" in record_field(manager, "implied_ids").get("eval")
    settings = {"magento.backend", "magento.backend.store", "magento.payment.method", "magento.order.status"}
    for row in access_rows():
        model = next(m for m in MODELS.values() if model_xmlid(m.name) == row["model_id:id"])
        if model.name in settings and row["group_id:id"] == "group_magento_user":
            assert (row["perm_write"], row["perm_create"], row["perm_unlink"]) == ("0", "0", "0"), row["id"]


# ---------------------------------------------------------------------- contract


def _contract():
    return json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))


def _related_target(model, path):
    current = model
    parts = path.split(".")
    for part in parts[:-1]:
        fdef = MODELS.get(current) and MODELS[current].fields.get(part)
        current = fdef.relation if fdef else KNOWN_EXTERNAL_RELATIONS[(current, part)]
    return MODELS[current].fields[parts[-1]]


def _effective_default(fdef):
    if fdef.default is MISSING:
        return {"boolean": False, "integer": 0}.get(fdef.type, MISSING)
    return fdef.default


def _contract_fields():
    contract = _contract()
    for section in ("new_models", "extended_models", "addon_only_models"):
        for model, fields in contract[section].items():
            for name, spec in fields.items():
                yield section, model, name, spec


def test_contract_models_exist_as_new_or_extended_models():
    contract = _contract()
    for section in ("new_models", "addon_only_models"):
        for model in contract[section]:
            assert model in MODELS and MODELS[model].new and not MODELS[model].transient, model
    for model in contract["extended_models"]:
        assert model in MODELS and not MODELS[model].new, model
    stored_new = {m.name for m in MODELS.values() if m.new and not m.transient}
    assert stored_new == set(contract["new_models"]) | set(contract["addon_only_models"])


@pytest.mark.parametrize(
    "section,model,name,spec", list(_contract_fields()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_contract_field_matches_the_python_definition(section, model, name, spec):
    fdef = MODELS[model].fields.get(name)
    assert fdef is not None, "%s.%s is in contract.json but not in the addon" % (model, name)
    where = "%s.%s (%s:%s)" % (model, name, fdef.file, fdef.line)
    assert fdef.type == spec["type"], where
    if "relation" in spec:
        assert fdef.relation == spec["relation"], where
    if "inverse" in spec:
        assert fdef.inverse == spec["inverse"], where
    if "selection" in spec:
        assert fdef.selection == spec["selection"], where
    if "required" in spec:
        assert bool(fdef.required) is spec["required"], where
    if "groups" in spec:
        assert fdef.groups == spec["groups"], where
    if "related" in spec:
        assert fdef.related == spec["related"], where
        target = _related_target(model, spec["related"])
        assert target.type == spec["type"], where
        if "default" in spec:
            assert _effective_default(target) == spec["default"], where
    elif "default" in spec:
        default = _effective_default(fdef)
        assert default is not NOT_LITERAL, "%s: the default must be a literal" % where
        assert default == spec["default"] and type(default) is type(spec["default"]), where
    else:
        assert fdef.default is MISSING or fdef.type == "many2one", "%s: default not in contract.json" % where


def test_every_stored_field_of_contract_models_is_in_the_contract():
    contract = _contract()
    for section in ("new_models", "extended_models", "addon_only_models"):
        for model, fields in contract[section].items():
            extra = set(MODELS[model].fields) - set(fields)
            assert extra == set(), "%s has fields missing from contract.json: %s" % (model, sorted(extra))


def test_client_methods_match_the_protocol_document():
    protocol = (ADDON_ROOT.parent / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z_]+\.[a-z_]+)\(", protocol, re.M))
    documented |= set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)\(backend, options\)`", protocol, re.M))
    source = (ADDON_DIR / "connector_client.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    methods = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "METHODS"
    )
    assert len(documented) == 16
    assert {server for server, _kind in methods.values()} == documented
    assert set(methods) <= class_methods(ADDON_DIR / "connector_client.py", "ConnectorClient")


def _string_args_of_calls(method):
    """First string arguments of every ``<x>.<method>(...)`` call in the addon's Python files."""
    found = set()
    for path in python_files(ADDON_DIR):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_export_button_job_can_be_queued_when_its_kind_is_busy():
    """A selection an export button cannot start (a run of the same kind is busy) goes into the
    export-request queue, which needs the model of each job the buttons start."""
    source = (ADDON_DIR / "models" / "magento_export_request.py").read_text(encoding="utf-8")
    jobs = None
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "JOBS" for t in node.targets):
            jobs = ast.literal_eval(node.value)
    assert jobs, "JOBS not found in magento_export_request.py"
    started = _string_args_of_calls("_export_records")
    assert started, "no export button found"
    assert started <= set(jobs.values()), started - set(jobs.values())
    assert set(jobs) <= {"product.product", "product.category"}
