import { registry } from "@web/core/registry";

// The on-call path: open the incident from the link a page carries, acknowledge it, log a note, silence its
// alerts for an hour, resolve it.
registry.category("web_tour.tours").add("api_monitor_oncall", {
    steps: () => [
        {
            content: "The link lands on the incident, triggered",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Triggered')",
        },
        {
            content: "Acknowledge",
            trigger: ".o_statusbar_buttons button[name='action_acknowledge']",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Acknowledged')",
        },
        {
            content: "Log a note",
            trigger: "button.o-mail-Chatter-logNote",
            run: "click",
        },
        {
            trigger: ".o-mail-Composer-input",
            run: "edit Rolled back release 42: watching the error rate",
        },
        {
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            trigger: ".o-mail-Message-body:contains('Rolled back release 42')",
        },
        {
            content: "Silence 1 h",
            trigger: ".o_statusbar_buttons button[name='action_silence']",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='name'] input",
            run: "edit Rollback in progress",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The incident says who silenced it",
            trigger: "body:not(:has(.modal)) .o_field_widget[name='silence_id']:contains('Rollback in progress')",
        },
        {
            content: "Resolve",
            trigger: ".o_statusbar_buttons button[name='action_resolve']:visible",
            run: "click",
        },
        {
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
    ],
});

// Creating a rule: choose endpoints by a pattern and see how many it watches before saving.
registry.category("web_tour.tours").add("api_monitor_new_rule", {
    steps: () => [
        {
            content: "A new rule watches the critical endpoints: one here",
            trigger: ".o_field_widget[name='selected_count']:contains('1')",
        },
        {
            trigger: ".o_field_widget[name='name'] input",
            run: "edit Sales API errors",
        },
        {
            trigger: ".o_field_widget[name='endpoint_selection'] label:contains('Endpoints matching a pattern')",
            run: "click",
        },
        {
            content: "No pattern yet: it watches nothing, and says so",
            trigger: ".o_field_widget[name='selected_count']:contains('0')",
        },
        {
            trigger: ".o_field_widget[name='endpoint_pattern'] input",
            run: "edit /web/dataset/call_kw/sale.* && click body",
        },
        {
            content: "The count follows the pattern before the rule is saved",
            trigger: ".o_field_widget[name='selected_count']:contains('2')",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the breadcrumb names the rule",
            trigger: ".o_breadcrumb:contains('Sales API errors')",
        },
    ],
});
