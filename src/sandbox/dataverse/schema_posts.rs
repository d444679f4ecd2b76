//! Dataverse activity-feed posts (`posts`): the timeline entries Business Central's order
//! integration writes on a `salesorder` ("The order status has changed to Released.", "A
//! shipment has been created for the order.") or an `account`. `regardingobjectid` is
//! polymorphic; the sandbox binds it as `regardingobjectid_salesorder@odata.bind` or
//! `regardingobjectid_account@odata.bind` (the navigation-property naming of the other
//! polymorphic lookups; a real organisation lists its names in `$metadata`). `source`: 1 Auto
//! Post, 2 Manual Post. `type`: 1 Check-in, 2 Idea, 3 News, 4 Private Message, 5 Question,
//! 6 Re-post, 7 Status. Posts have no state.

use super::schema::{EntityDef, Kind, Target, ro, w};

const REGARDING: &[Target] = &[
    Target {
        nav: "regardingobjectid_salesorder",
        set: "salesorders",
        logical: "salesorder",
    },
    Target {
        nav: "regardingobjectid_account",
        set: "accounts",
        logical: "account",
    },
];

/// `post.source` option values.
const SOURCES: &[i64] = &[1, 2];
/// `post.type` option values.
const TYPES: &[i64] = &[1, 2, 3, 4, 5, 6, 7];

pub(crate) static POST: EntityDef = EntityDef {
    set: "posts",
    logical: "post",
    key: "postid",
    columns: &[
        w("postid", Kind::Guid),
        w("regardingobjectid", Kind::Lookup(REGARDING)),
        w("text", Kind::Text(1000)),
        w("source", Kind::Option(SOURCES)),
        w("type", Kind::Option(TYPES)),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("versionnumber", Kind::Int),
    ],
};
