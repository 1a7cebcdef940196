"""Rules: triggers, conditions and actions from rules.yaml and the dashboard.

The running manager is `hub.data["rules"]` (a `RuleManager`); its async API:

    manager.rules() -> list[RuleInfo]                    every rule (RuleInfo.as_dict() for JSON)
    manager.get(rule_id) -> RuleDetail                   one rule with its YAML source, editable?
    await manager.async_validate(yaml_text)              RulesInvalid(issues: file/line/field)
    await manager.async_create(yaml_text) -> RuleInfo    a dashboard rule (stored in rules.db)
    await manager.async_update(rule_id, yaml_text)       dashboard rules only (RuleReadOnly)
    await manager.async_delete(rule_id)
    await manager.async_set_enabled(rule_id, bool)       remembered across restarts
    await manager.async_trigger(rule_id, variables=None, skip_conditions=True) -> run_id
    await manager.async_traces(rule_id, limit=20)        newest first, running ones included
    await manager.async_trace(run_id)
    await manager.async_reload() -> ReloadResult         rules.yaml; invalid -> RulesInvalid
    manager.file_error                                   the last rejected rules.yaml, or None
    manager.voice_phrases()                              phrases voice triggers listen for

JSON-returning names used by web/api/rules.py: list_rules(), get_rule(id),
async_create_rule(yaml), async_update_rule(id, yaml), async_delete_rule(id).
The YAML format is described in hub/rules/FORMAT.md.

Errors are HearthError subclasses (RulesInvalid, RuleNotFound, RuleReadOnly) with `as_dict()`.
The bus carries `rules_updated` {action, rule_id} and `rule_triggered` {rule_id, run_id, ...}.
"""

from .errors import RuleIssue, RuleNotFound, RuleReadOnly, RulesInvalid
from .integration import DATA_KEY, RulesIntegration
from .manager import EVENT_RULES_UPDATED, ReloadResult, RuleDetail, RuleInfo, RuleManager
from .rule import EVENT_RULE_TRIGGERED

INTEGRATION = RulesIntegration

__all__ = [
    "DATA_KEY",
    "EVENT_RULES_UPDATED",
    "EVENT_RULE_TRIGGERED",
    "INTEGRATION",
    "ReloadResult",
    "RuleDetail",
    "RuleInfo",
    "RuleIssue",
    "RuleManager",
    "RuleNotFound",
    "RuleReadOnly",
    "RulesInvalid",
]
