/* Cell renderers for dash-ag-grid ({"cellRenderer": "CustomerLink"}). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* The global filters a link carries to the next page (see dashboard/components/filters.py). */
var AR_FILTER_KEYS = ["as_of", "basis", "segment", "region", "tier", "sales_rep", "terms_group"];

function arFilterQuery() {
    var current = new URLSearchParams(window.location.search);
    var kept = new URLSearchParams();
    AR_FILTER_KEYS.forEach(function (key) {
        if (current.get(key)) { kept.set(key, current.get(key)); }
    });
    var text = kept.toString();
    return text ? "?" + text : "";
}

/* A customer cell that opens Account 360 inside the app (like dcc.Link); ctrl/middle-click opens a tab. */
dagcomponentfuncs.CustomerLink = function (props) {
    var data = props.data || {};
    if (props.node && props.node.rowPinned) { return props.valueFormatted || props.value || ""; }
    var id = data.customer_id;
    if (!id) { return props.value || ""; }
    var href = "/customers/" + encodeURIComponent(id) + arFilterQuery();
    return React.createElement(
        "a",
        {
            href: href,
            className: "ar-customer-link",
            onClick: function (event) {
                if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) { return; }
                event.preventDefault();
                window.history.pushState({}, "", href);
                window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                window.scrollTo(0, 0);
            },
        },
        props.value
    );
};
