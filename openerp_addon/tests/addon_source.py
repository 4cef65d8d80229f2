"""Reads the addon's sources without importing Odoo: model and field definitions (with ``ast``),
data files (with ``xml.etree``) and the manifest.

Only what the static tests need: every value is taken from the literal source, and anything that
is not a literal is reported as :data:`NOT_LITERAL` rather than guessed.
"""

import ast
import csv
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
ADDON_ROOT = TESTS_DIR.parent
ADDON_DIR = ADDON_ROOT / "magento_connector"
CONTRACT_PATH = ADDON_ROOT / "contract.json"
MODULE = "magento_connector"

#: Field definitions present on every model.
MAGIC_FIELDS = {"id", "display_name", "create_date", "create_uid", "write_date", "write_uid"}


class _Missing:
    def __repr__(self):
        return "MISSING"


class _NotLiteral:
    def __repr__(self):
        return "NOT_LITERAL"


MISSING = _Missing()
NOT_LITERAL = _NotLiteral()


@dataclass
class FieldDef:
    """One ``name = fields.X(...)`` assignment."""

    name: str
    type: str
    relation: object = None
    inverse: object = None
    selection: object = None
    default: object = MISSING
    required: object = False
    groups: object = None
    related: object = None
    file: str = ""
    line: int = 0


@dataclass
class ModelDef:
    """Every class of the addon that defines or extends one model, merged."""

    name: str
    new: bool = False
    transient: bool = False
    fields: dict = field(default_factory=dict)
    methods: set = field(default_factory=set)
    files: list = field(default_factory=list)


def python_files(root=ADDON_DIR):
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _literal(node, constants):
    if node is None:
        return MISSING
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return NOT_LITERAL


def _module_constants(tree):
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _literal(node.value, constants)
            if value is not NOT_LITERAL:
                constants[node.targets[0].id] = value
    return constants


def _class_attr(cls, name, constants):
    for node in cls.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    return _literal(node.value, constants)
    return MISSING


def _base_kind(cls):
    for base in cls.bases:
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "models":
            return base.attr
    return None


def _field_from_call(name, call, constants, path):
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "fields"):
        return None
    ftype = func.attr.lower()
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    args = call.args
    fdef = FieldDef(name=name, type=ftype, file=str(path.relative_to(ADDON_ROOT)), line=call.lineno)
    if ftype in ("many2one", "one2many", "many2many"):
        fdef.relation = _literal(kwargs.get("comodel_name", args[0] if args else None), constants)
        if ftype == "one2many":
            fdef.inverse = _literal(kwargs.get("inverse_name", args[1] if len(args) > 1 else None), constants)
    if ftype == "selection":
        raw = _literal(kwargs.get("selection", args[0] if args else None), constants)
        if isinstance(raw, (list, tuple)):
            fdef.selection = [item[0] for item in raw]
        else:
            fdef.selection = raw
    fdef.default = _literal(kwargs.get("default"), constants) if "default" in kwargs else MISSING
    fdef.required = _literal(kwargs["required"], constants) if "required" in kwargs else False
    fdef.groups = _literal(kwargs["groups"], constants) if "groups" in kwargs else None
    fdef.related = _literal(kwargs["related"], constants) if "related" in kwargs else None
    return fdef


def parse_models(root=ADDON_DIR):
    """``{model name: ModelDef}`` of every class with ``_name`` or ``_inherit`` under ``root``."""
    models = {}
    for path in python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        constants = _module_constants(tree)
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            kind = _base_kind(cls)
            if kind is None:
                continue
            name = _class_attr(cls, "_name", constants)
            inherit = _class_attr(cls, "_inherit", constants)
            if isinstance(name, str):
                model_name, new = name, inherit in (MISSING, name)
            elif isinstance(inherit, str):
                model_name, new = inherit, False
            else:
                continue
            model = models.setdefault(model_name, ModelDef(name=model_name))
            model.new = model.new or new
            model.transient = model.transient or kind == "TransientModel"
            model.files.append(str(path.relative_to(ADDON_ROOT)))
            for node in cls.body:
                if isinstance(node, ast.FunctionDef):
                    model.methods.add(node.name)
                elif (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Call)
                ):
                    fdef = _field_from_call(node.targets[0].id, node.value, constants, path)
                    if fdef is not None:
                        model.fields[fdef.name] = fdef
    return models


def class_methods(path, class_name):
    """Names of the methods of ``class_name`` defined in ``path``."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    raise AssertionError("no class %s in %s" % (class_name, path))


def manifest():
    return ast.literal_eval((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))


def data_files():
    """Data files under the directories Odoo loads from (security, views, data, wizards)."""
    found = []
    for directory in ("security", "views", "data", "wizards", "report", "demo"):
        base = ADDON_DIR / directory
        if base.is_dir():
            found.extend(p for p in base.rglob("*") if p.suffix in (".xml", ".csv"))
    return sorted(str(p.relative_to(ADDON_DIR)) for p in found)


def xml_files():
    return sorted(p for p in ADDON_DIR.rglob("*.xml"))


def access_rows():
    with (ADDON_DIR / "security" / "ir.model.access.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def model_xmlid(model_name):
    """The id Odoo gives the ``ir.model`` record of a model (``model_magento_backend``)."""
    return "model_" + model_name.replace(".", "_")


_REF_CALL = re.compile(r"""\bref\(\s*['"]([\w.]+)['"]\s*\)""")
_ACTION_REF = re.compile(r"^%\(([\w.]+)\)d$")


def refs_in_element(element):
    """External ids an XML data element refers to, as ``(xmlid, what)`` pairs."""
    refs = []
    if element.tag == "field":
        if element.get("ref"):
            refs.append((element.get("ref"), "field ref"))
        if element.get("eval"):
            refs.extend((r, "eval ref()") for r in _REF_CALL.findall(element.get("eval")))
    if element.tag == "menuitem":
        for attr in ("parent", "action"):
            if element.get(attr):
                refs.append((element.get(attr), "menuitem " + attr))
    if element.get("groups"):
        for group in element.get("groups").split(","):
            refs.append((group.strip().lstrip("!"), "groups"))
    if element.tag == "button" and element.get("type") == "action":
        match = _ACTION_REF.match(element.get("name") or "")
        if match:
            refs.append((match.group(1), "button action"))
    return refs


def record_field(record, name):
    for child in record:
        if child.tag == "field" and child.get("name") == name:
            return child
    return None


def parse_xml(path):
    return ET.parse(str(path)).getroot()
