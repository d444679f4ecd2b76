//! Word lists and codes for generating realistic companies, people, addresses and items.

pub(crate) const COMPANY_FIRST: &[&str] = &[
    "Northwind",
    "Blue River",
    "Contoso",
    "Fabrikam",
    "Alpine",
    "Adatum",
    "Litware",
    "Tailspin",
    "Woodgrove",
    "Silverline",
    "Redwood",
    "Granite",
    "Harbor",
    "Summit",
    "Cedar",
    "Lakeside",
    "Ironbridge",
    "Maple",
    "Oakridge",
    "Pinnacle",
    "Riverside",
    "Sterling",
    "Trident",
    "Vertex",
    "Westfield",
    "Evergreen",
    "Falcon",
    "Golden Gate",
    "Highland",
    "Keystone",
    "Lighthouse",
    "Meridian",
    "Nordic",
    "Orion",
    "Pacific",
    "Quarry",
    "Rainier",
    "Sequoia",
    "Thornbury",
    "Union",
    "Vanguard",
    "Willow",
    "Bluebird",
    "Copperfield",
    "Driftwood",
];

pub(crate) const COMPANY_SECOND: &[&str] = &[
    "Traders",
    "Logistics",
    "Foods",
    "Engineering",
    "Outfitters",
    "Manufacturing",
    "Supply",
    "Systems",
    "Distribution",
    "Analytics",
    "Brewing",
    "Textiles",
    "Pharma",
    "Marine",
    "Robotics",
    "Hardware",
    "Furniture",
    "Packaging",
    "Energy",
    "Consulting",
    "Motors",
    "Instruments",
    "Bakery",
    "Coffee Roasters",
    "Electric",
    "Plastics",
    "Print Works",
    "Labs",
    "Farms",
    "Freight",
    "Tools",
    "Optics",
    "Builders",
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Sophia",
    "Mason",
    "Isabella",
    "Ethan",
    "Mia",
    "James",
    "Charlotte",
    "Benjamin",
    "Amelia",
    "Oliver",
    "Harper",
    "Elijah",
    "Freja",
    "Magnus",
    "Ida",
    "Mads",
    "Priya",
    "Arjun",
    "Chloé",
    "Mathieu",
    "Grace",
    "Henry",
    "Zoe",
    "Samuel",
    "Aisha",
    "Daniel",
    "Hannah",
    "Jacob",
    "Leah",
    "Owen",
    "Maya",
    "Ryan",
    "Nora",
    "Victor",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Larsen", "Patel",
    "Singh", "Tremblay", "Roy", "Gagnon", "Walker", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson",
];

pub(crate) const JOB_TITLES: &[&str] = &[
    "Purchasing Manager",
    "Accounts Payable Clerk",
    "CEO",
    "CFO",
    "Operations Director",
    "Office Manager",
    "Sales Director",
    "IT Manager",
    "Controller",
    "Procurement Lead",
    "Owner",
    "Logistics Coordinator",
];

pub(crate) const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "River",
    "Church",
    "Market",
    "Harbour",
    "Station",
    "Mill",
    "King",
    "Queen",
    "Victoria",
    "Bridge",
];

pub(crate) const STREET_TYPES: &[&str] = &[
    "Street",
    "Avenue",
    "Road",
    "Boulevard",
    "Lane",
    "Way",
    "Drive",
];

/// A city: name, state/province/region, postal code, phone area code.
pub(crate) type City = (&'static str, &'static str, &'static str, &'static str);

pub(crate) const US_CITIES: &[City] = &[
    ("Seattle", "WA", "98101", "206"),
    ("Austin", "TX", "78701", "512"),
    ("Chicago", "IL", "60601", "312"),
    ("Denver", "CO", "80202", "303"),
    ("Boston", "MA", "02108", "617"),
    ("Atlanta", "GA", "30303", "404"),
    ("Portland", "OR", "97204", "503"),
    ("Phoenix", "AZ", "85004", "602"),
    ("Columbus", "OH", "43215", "614"),
    ("Nashville", "TN", "37203", "615"),
    ("San Diego", "CA", "92101", "619"),
    ("Minneapolis", "MN", "55401", "612"),
];

pub(crate) const GB_CITIES: &[City] = &[
    ("London", "Greater London", "EC1A 1BB", "20"),
    ("Manchester", "Greater Manchester", "M1 1AE", "161"),
    ("Leeds", "West Yorkshire", "LS1 4DY", "113"),
    ("Bristol", "Bristol", "BS1 5TR", "117"),
    ("Edinburgh", "City of Edinburgh", "EH1 1YZ", "131"),
    ("Birmingham", "West Midlands", "B1 1BB", "121"),
];

pub(crate) const DK_CITIES: &[City] = &[
    ("København K", "Hovedstaden", "1050", ""),
    ("Aarhus C", "Midtjylland", "8000", ""),
    ("Odense C", "Syddanmark", "5000", ""),
    ("Aalborg", "Nordjylland", "9000", ""),
    ("Kolding", "Syddanmark", "6000", ""),
    ("Roskilde", "Sjælland", "4000", ""),
];

pub(crate) const CA_CITIES: &[City] = &[
    ("Toronto", "ON", "M5V 2T6", "416"),
    ("Vancouver", "BC", "V6B 1A1", "604"),
    ("Montréal", "QC", "H2Y 1C6", "514"),
    ("Calgary", "AB", "T2P 1J9", "403"),
    ("Ottawa", "ON", "K1P 1J1", "613"),
];

/// Currencies: (ISO code, name, symbol, units per US dollar).
pub(crate) const CURRENCIES: &[(&str, &str, &str, f64)] = &[
    ("USD", "US Dollar", "$", 1.0),
    ("EUR", "Euro", "€", 0.92),
    ("GBP", "Pound Sterling", "£", 0.79),
    ("CAD", "Canadian Dollar", "CA$", 1.36),
    ("DKK", "Danish Krone", "kr.", 6.87),
];

/// The human users: (full name, e-mail login).
pub(crate) const HUMAN_USERS: &[(&str, &str)] = &[
    ("Alex Wu", "alex.wu"),
    ("Maria Jensen", "maria.jensen"),
    ("Sam Patel", "sam.patel"),
    ("Chris Tremblay", "chris.tremblay"),
];

/// Salesperson codes in the ERP, one per human user but the last (same order).
pub(crate) const SALESPEOPLE: &[&str] = &["AW", "MJ", "SP"];

/// Payment terms codes.
pub(crate) const PAYMENT_TERMS: &[&str] = &["NET30", "2%10NET30", "NET45", "NET60"];
/// Shipment method codes.
pub(crate) const SHIPMENT_METHODS: &[&str] = &["FOB", "NOCHARGE"];
/// Shipping agent codes.
pub(crate) const SHIPPING_AGENTS: &[&str] = &[
    "AIRBORNE", "DHL", "FEDEX", "UPS", "POSTAL", "FULLLOAD", "WILLCALL",
];

/// Product name parts.
pub(crate) const PRODUCT_FIRST: &[&str] = &[
    "Steel",
    "Oak",
    "Aluminium",
    "Glass",
    "Leather",
    "Walnut",
    "Copper",
    "Bamboo",
    "Ceramic",
    "Carbon",
];
pub(crate) const PRODUCT_SECOND: &[&str] = &[
    "Desk", "Chair", "Lamp", "Cabinet", "Shelf", "Table", "Stool", "Bench", "Frame", "Panel",
    "Bracket", "Cable",
];
/// Units of measure of items.
pub(crate) const ITEM_UNITS: &[&str] = &["PCS", "BOX", "SET", "KG"];
/// Customer price groups.
pub(crate) const PRICE_GROUPS: &[(&str, &str)] = &[
    ("RETAIL", "Retail customers"),
    ("WHOLESALE", "Wholesale customers"),
    ("EXPORT", "Export customers"),
];
