/* Functions that dash-ag-grid column definitions call by name ({"function": "arMoney(...)"}). */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

var AR_SYMBOLS = {USD: "$", EUR: "\u20ac", GBP: "\u00a3", JPY: "\u00a5", AUD: "A$", CAD: "CA$", NZD: "NZ$", INR: "\u20b9"};

/* Integer cents -> "$1,234.56" with integer arithmetic only; text (the exact totals row) is shown as is. */
dagfuncs.arMoney = function (cents, currency) {
    if (cents === null || cents === undefined || cents === "") { return ""; }
    if (typeof cents === "string") { return cents; }
    var n = Math.round(Number(cents));
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    var whole = Math.floor(n / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var part = (n % 100).toString().padStart(2, "0");
    var code = (currency || "USD").toUpperCase();
    var symbol = AR_SYMBOLS[code] || code + " ";
    return sign + symbol + whole + "." + part;
};

/* Quick-search text of a money cell: "1234.56 1,234.56" so either spelling finds it. */
dagfuncs.arMoneySearch = function (cents) {
    if (cents === null || cents === undefined || typeof cents === "string") { return cents || ""; }
    var n = Math.abs(Math.round(Number(cents)));
    var whole = Math.floor(n / 100);
    var part = (n % 100).toString().padStart(2, "0");
    var sign = cents < 0 ? "-" : "";
    return sign + whole + "." + part + " " + sign + whole.toLocaleString("en-US") + "." + part;
};

/* A boolean cell as "Yes" or blank (the totals row passes text through). */
dagfuncs.arYesNo = function (value) {
    if (typeof value === "string") { return value; }
    return value === true ? "Yes" : "";
};
