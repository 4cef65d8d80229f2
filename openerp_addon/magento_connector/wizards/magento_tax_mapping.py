# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Tax mapping: the proposals of ``taxes.sync``, and the chosen Magento class stored on each tax."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


class MagentoTaxClass(models.TransientModel):
    _name = "magento.tax.class"
    _description = "Magento Product Tax Class"
    _order = "class_id"

    mapping_id = fields.Many2one("magento.tax.mapping", required=True, ondelete="cascade")
    class_id = fields.Integer(string="Magento Class ID")
    name = fields.Char()

    @api.depends("class_id", "name")
    def _compute_display_name(self):
        for tax_class in self:
            tax_class.display_name = "%s (%s)" % (tax_class.name or "", tax_class.class_id)


class MagentoTaxMapping(models.TransientModel):
    _name = "magento.tax.mapping"
    _description = "Magento Tax Mapping"

    backend_id = fields.Many2one("magento.backend", required=True, ondelete="cascade")
    run_number = fields.Integer(string="Run")
    class_ids = fields.One2many("magento.tax.class", "mapping_id", string="Magento Tax Classes")
    line_ids = fields.One2many("magento.tax.mapping.line", "mapping_id", string="Taxes")

    @api.model
    def _create_from_answer(self, backend, answer):
        """A wizard from a ``taxes.sync`` answer; class 0 ("None") is always offered."""
        if not isinstance(answer, dict):
            raise UserError(_("The connector server sent no tax mapping."))
        classes = {}
        for tax_class in answer.get("classes") or []:
            if isinstance(tax_class, dict) and isinstance(tax_class.get("id"), int):
                classes[tax_class["id"]] = tax_class.get("name") or str(tax_class["id"])
        classes.setdefault(0, "None")
        wizard = self.create(
            {
                "backend_id": backend.id,
                "run_number": answer.get("run_id") if isinstance(answer.get("run_id"), int) else 0,
                "class_ids": [(0, 0, {"class_id": k, "name": v}) for k, v in sorted(classes.items())],
            }
        )
        by_id = {c.class_id: c for c in wizard.class_ids}
        taxes = self.env["account.tax"].with_context(active_test=False)
        lines = []
        for entry in answer.get("mapping") or []:
            if not isinstance(entry, dict):
                continue
            tax = taxes.browse(entry.get("tax_id")).exists() if isinstance(entry.get("tax_id"), int) else taxes
            mapped = bool(entry.get("mapped"))
            current = by_id.get(entry.get("class_id")) if mapped else None
            proposed = by_id.get(entry.get("proposed_class_id"))
            lines.append(
                {
                    "mapping_id": wizard.id,
                    "tax_id": tax.id or False,
                    "tax_name": entry.get("tax_name") or tax.name or False,
                    "amount": str(entry["amount"]) if entry.get("amount") is not None else False,
                    "price_include": bool(entry.get("price_include")),
                    "is_mapped": mapped,
                    "current_class_id": current.id if current else False,
                    "proposed_class_id": proposed.id if proposed else False,
                    "chosen_class_id": (current or proposed).id if (current or proposed) else False,
                    "reason": entry.get("reason") or False,
                    "apply": bool(tax) and not mapped and bool(proposed),
                }
            )
        self.env["magento.tax.mapping.line"].create(lines)
        return wizard

    def action_apply(self):
        """Stores the chosen class on every tax whose line is ticked."""
        self.ensure_one()
        if not self.env.user.has_group("magento_connector.group_magento_manager"):
            raise AccessError(_("Only Magento managers can change the tax mapping."))
        applied = 0
        for line in self.line_ids.filtered("apply"):
            if not line.tax_id:
                raise UserError(_("The tax %s does not exist in this database.", line.tax_name or ""))
            if not line.chosen_class_id:
                raise UserError(_("Choose a Magento tax class for %s (None is a valid choice).", line.tax_id.name))
            line.tax_id.sudo().write(
                {
                    "magento_tax_class_id": line.chosen_class_id.class_id,
                    "magento_tax_class_mapped": True,
                }
            )
            applied += 1
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Tax mapping"),
                "message": _("%s tax(es) mapped.", applied),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class MagentoTaxMappingLine(models.TransientModel):
    _name = "magento.tax.mapping.line"
    _description = "Magento Tax Mapping Line"

    mapping_id = fields.Many2one("magento.tax.mapping", required=True, ondelete="cascade")
    tax_id = fields.Many2one("account.tax", string="Tax")
    tax_name = fields.Char(string="Tax Name")
    amount = fields.Char(string="Rate")
    price_include = fields.Boolean(string="Included in Price")
    is_mapped = fields.Boolean(string="Mapped")
    current_class_id = fields.Many2one("magento.tax.class", string="Current Class")
    proposed_class_id = fields.Many2one("magento.tax.class", string="Proposed Class")
    chosen_class_id = fields.Many2one("magento.tax.class", string="Magento Class")
    reason = fields.Char()
    apply = fields.Boolean(help="Store the chosen class on the tax.")
