// Drive JOHN's LRS with the @xapi/xapi client library: send a batch, page
// through it with `more` links, void one statement and round-trip a state
// document. Prints one JSON line of results; exits non-zero on any failure.
import XAPI from "@xapi/xapi";

const endpoint = process.env.LRS_ENDPOINT;
const version = process.env.LRS_VERSION || "2.0.0";
const xapi = new XAPI({
  endpoint,
  auth: XAPI.toBasicAuth(process.env.LRS_KEY, process.env.LRS_SECRET),
  version,
});

const actor = { objectType: "Agent", mbox: "mailto:client.check@example.com" };
const verb = { id: "http://example.com/verbs/checked", display: { "en-GB": "checked" } };
const statements = Array.from({ length: 7 }, (_, index) => ({
  actor,
  verb,
  object: { objectType: "Activity", id: `http://example.com/activities/check-${index}` },
}));

const sent = await xapi.sendStatements({ statements });
const ids = sent.data;

let page = await xapi.getStatements({ verb: verb.id, limit: 3, ascending: true });
const seen = page.data.statements.map((statement) => statement.id);
let pages = 1;
while (page.data.more) {
  page = await xapi.getMoreStatements({ more: page.data.more });
  seen.push(...page.data.statements.map((statement) => statement.id));
  pages += 1;
}

await xapi.voidStatement({ actor, statementId: ids[0] });
const voided = await xapi.getVoidedStatement({ voidedStatementId: ids[0] });

const activityId = "http://example.com/activities/check-0";
await xapi.setState({ agent: actor, activityId, stateId: "bookmark", state: { page: 4 } });
const state = await xapi.getState({ agent: actor, activityId, stateId: "bookmark" });

const about = await xapi.getAbout();
console.log(
  JSON.stringify({
    sent: ids.length,
    seen_in_order: JSON.stringify(seen) === JSON.stringify(ids),
    pages,
    voided_id: voided.data.id === ids[0],
    state: state.data,
    versions: about.data.version,
  }),
);
