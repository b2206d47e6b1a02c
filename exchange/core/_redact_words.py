"""The word lists the free-text scrubber (exchange.core.redact) works from: forenames, words that
stop a name, street words, brands, acronyms. Data, not rules: extend a list here and the
scrubber's tests and bench/redaction_recall.py show the effect."""

from __future__ import annotations

STREET_STOP = frozenset(
    """
    a an the on in at of from to and or with by near outside into onto down up along across his
    her their my our your its this that these those some any two three four five six seven eight
    nine ten was were is are has had have who which but then over under after before for as
    """.split()
)


# About 300 common forenames in the UK (ONS baby-name lists across decades plus common names in
# British South Asian, Polish, Romanian and Irish communities). Words that are also ordinary words
# in capitalised position (Will, Bill, May, June, April, Hope, Faith, Joy, Dawn, Summer, Mark as a
# verb is kept) are left out on purpose.
FORENAMES: frozenset[str] = frozenset(
    """
    Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie Henry Joshua
    Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas Mohammed
    Muhammad Mohammad Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary Riley
    Teddy Theodore David Elijah Jake Toby Louie Reuben Arlo Hugo Luca Jaxon Matthew Harvey Reggie
    Michael Tommy Jenson Frankie Ryan John Paul Mark Andrew Richard Christopher Stephen Steven Peter
    Robert Anthony Kevin Gary Ian Martin Simon Neil Craig Darren Lee Wayne Dean Carl Stuart Scott
    Jason Shaun Sean Liam Connor Kyle Jordan Callum Lewis Aaron Nathan Bradley Luke Kieran Jamie Ben
    Sam Tom Dan Dave Chris Mike Steve Jim Tony Brian Keith Colin Graham Alan Barry Terry Derek
    Trevor Philip Patrick Declan Ali Ahmed Hassan Omar Imran Bilal Usman Adnan Tariq Raj Sanjay Amit
    Arjun Jakub Piotr Tomasz Marcin Krzysztof Andrei Ionut Kai Tyler Jayden Reece Rhys Owen Gareth
    Dafydd Jonathan Nicholas Matt Joe Danny Ricky Robbie Billy Bobby Jimmy Kenneth Ronald Roger
    Dennis Malcolm Gordon Ray Raymond Frank Stanley Harold Albert Ernest Dominic Marcus Vincent
    Olivia Amelia Isla Ava Mia Ivy Lily Isabella Sophia Sophie Grace Freya Florence Willow Emily
    Ella Poppy Evie Charlotte Jessica Daisy Sienna Elsie Alice Ruby Chloe Emma Hannah Lucy Holly
    Megan Lauren Rebecca Sarah Laura Amy Rachel Nicola Claire Michelle Kelly Gemma Hayley Danielle
    Stacey Leanne Natalie Katie Kirsty Zoe Jade Amber Chelsea Shannon Paige Courtney Bethany Abigail
    Jennifer Elizabeth Helen Susan Karen Julie Linda Tracey Tracy Donna Sharon Joanne Angela Lisa
    Wendy Deborah Jacqueline Margaret Patricia Barbara Christine Janet Carol Pauline Sandra Maria
    Anna Fatima Aisha Ayesha Zainab Maryam Amina Priya Sunita Agnieszka Katarzyna Joanna Aleksandra
    Ioana Siobhan Aoife Niamh Catherine Kate Louise Victoria Rose Jasmine Leah Molly Millie Maisie
    Phoebe Eva Harriet Matilda Esme Imogen Nicole Samantha Jodie Kayleigh Toni Jo Caroline Diane
    Alison Dorothy Joan Jean Kathleen Mary Anne Ann Jane Sally Lorraine Debbie Mandy Tina Jenny Kim
    Vicky Becky Beth Ellie Jess Abbie Shauna Tia Demi Keeley Jasmin Naomi Hollie Georgia Erin
    """.split()
)


# Capitalised words that are not part of a personal name in these texts.
NAME_STOP = frozenset(
    """
    I The A An He She It They We You His Her Their Its Our My Your This That These Those Who What
    When Where Which There Here Then And Or But If As At On In Of To For From By With Not No Yes
    Unknown Persons Person Male Female Man Woman Men Women Boy Girl Youth Youths Child Children Adult
    Police Officer Officers PC PCSO DC DS DI Sgt Constable Sergeant Ambulance Fire Council CCTV ASB
    Statement Statements Vehicle Vehicles Car Van Bike Reports Reported Reporting States Stated Said
    Says Was Is Has Had Have Believes Believed Advised Attended Arrested Charged Interviewed Unable
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    White Black Asian British English Scottish Welsh Irish Polish Romanian Lithuanian Latvian
    European Eastern Western Mixed Caucasian Arab Chinese Indian Pakistani Bangladeshi African
    Caribbean Somali Kurdish Turkish Albanian Afghan Iraqi Iranian Syrian Eritrean Sudanese Roma
    Traveller Muslim Christian Jewish Sikh Hindu North South East West Northern Southern Central
    Theft Burglary Robbery Assault Damage Criminal Fraud Harassment Stalking Arson Shoplifting
    Violence Drugs Drug Weapon Knife Public Order Offence Offender Suspect Victim Witness Caller
    Crime Incident Report Log Ref Reference Number Address Location Time Date Unit Flat Apartment
    Room House Home Road Street Lane Avenue Close Drive Way Court Hill Park Square Station Hospital
    School Academy College University Primary Infant Junior Surgery Practice Medical Health Memorial
    Arms Inn Hotel Tavern Bar Pub Club Stadium Community Hall Library Museum Gallery Theatre Cinema
    Market Shopping Retail Estate Trust Foundation Ltd Limited PLC Group Associates Solicitors
    Motors Garage Bridge Airport Terminal Line Centre Center Building Tower Church Chapel Ward
    Cottage Gardens Green FC United City Town Coach Bus Train Rail Railway Services Service Team
    Housing Social Care Support Services NHS GP A&E UK GB NFA IC1 IC2 IC3 IC4 IC5 IC6 ID OK TV BMW
    VW DVLA HMRC DWP CID MO RTC Mum Dad Nan Grandad Mother Father Son Daughter Brother Sister
    Partner Wife Husband Friend Neighbour Landlord Tenant Carer Staff Security Manager Shop Store
    Also Again Later Earlier Today Yesterday Tonight Morning Afternoon Evening Night Approx Around
    Christmas Easter Halloween Bonfire New Year Eve Day Week Month
    Support Management Liaison Programme Scheme Panel Hub Champion Code Personal Impact Information
    Lead Protection Safeguarding Assessment Referral Plan Order Notice Warning Contract Agreement
    Advocate Advocacy Worker Services Officer Coordinator Co-ordinator Mental Adult Children's
    """.split()
)


PLACE_PREFIX = frozenset("st st. saint king queen prince princess port fort lake mount cape lady lord".split())


BRANDS = tuple(
    b.lower()
    for b in (
        "Ted Baker", "John Lewis", "Jack Daniels", "Jack Daniel's", "Jack Wills", "Jack Wolfskin",
        "Paul Smith", "Hugo Boss", "Tommy Hilfiger", "Ralph Lauren", "Calvin Klein", "Tom Ford",
        "Michael Kors", "Dr Martens", "Dr. Martens", "Doc Martens", "Christian Dior",
        "Louis Vuitton", "Kurt Geiger", "Karen Millen", "Jimmy Choo", "Charles Tyrwhitt",
        "Harvey Nichols", "Thomas Sabo", "Ben Sherman", "Fred Perry", "Henri Lloyd", "Peter Jones",
        "Miss Selfridge", "Victoria Beckham", "Stella McCartney", "Harry Potter", "Mr Kipling",
        "Ted Bakers", "Jack Daniel", "Jo Malone", "Laura Ashley", "Ray Ban", "Ray-Ban", "Jimmy Choos",
        "Dr Pepper", "Sam Browne", "Victoria Secret", "Victoria's Secret", "Alexander McQueen",
        "Oliver Bonas", "Oliver Sweeney", "Ted Lasso", "Henry Hoover", "Tommy Bahama", "Mr Whippy",
        "Mr Muscle", "Mr Sheen", "PC World", "PC Specialist", "DS Lite", "DS Smith", "DC Comics",
        "DC Shoes", "DC Thomson",
    )
)


REPORTING_VERBS = frozenset(
    """
    said says stated states told reported reports was is has had went came left called lives
    threatened punched assaulted hit kicked shouted pushed grabbed spat sent texted messaged
    phoned rang returned arrived attended admitted denied claimed alleged refused agreed who
    """.split()
)


# Surnames that are also stop words or street words; accepted after a title, a cue or a listed
# first name ("Mrs White", "suspect Emma Green", "Callum Hall").
SURNAME_COLLISIONS = frozenset(
    """
    White Black Brown Green Wood Woods Hall King Hill English Welsh Scott Ward Park Marsh Church
    Lane Bishop Dean Field Fields Banks Moore Young Lord Knight Page Rose Street Ford Grove Dale
    Bank Vale Mills Holmes Gray Grey Cross Bridge Marshall Chapman Mason Parker Rowe Walsh Shaw
    Croft Holt Mead Heath Gates Chase Ridge Lee Lees Wells Brook Brooks Nash
    """.split()
)


# The subset that follows a first name without a cue and is still a surname, not a place
# ("Jade Shaw", "Kyle White"; but "Rose Hill", "Victoria Park", "Albert Hall" are places).
SURNAME_COLLISIONS_UNCUED = frozenset(
    """
    White Black Brown King English Welsh Scott Ward Marsh Bishop Dean Banks Moore Young Lord Knight
    Page Ford Holmes Gray Grey Marshall Chapman Mason Parker Rowe Walsh Shaw Holt Nash Wells Brooks
    """.split()
)


# Capitalised words that start names of products, vehicles, shops and services, never people.
NOT_FIRST_NAMES = frozenset(
    """
    Ford Vauxhall Nissan Toyota Honda Audi Mercedes Volkswagen Kia Hyundai Peugeot Renault Citroen
    Fiat Mini Land Range Skoda Seat Volvo Mazda Suzuki Yamaha Kawasaki Apple Samsung Sony Nike
    Adidas Puma Stihl Makita Bosch Tesco Asda Aldi Lidl Sainsbury Morrisons Boots Argos Currys
    Primark Spar Costa Greggs Subway Amazon Royal Mail Evri Hermes Canon Nikon Dell Lenovo Microsoft
    Xbox PlayStation Nintendo Trek Carrera Specialised Specialized Raleigh Brompton Transit Sprinter
    Victim Suspect Offender Witness Caller Integrated Safer Neighbourhood Neighbourhoods Multi
    """.split()
)


ACRONYMS = frozenset(
    """
    CCTV ASB NHS DVLA HMRC BTP PCSO RTC ANPR TWOC ABH GBH NFA PND PNC MOJ CPS LGBT ASAP UPVC ATM SIM
    USB DVD LCD LED GPS BMX SUV MPV CEO PACT MARAC MAPPA DASH IDVA ISVA CAMHS SARC CSP ASBO CBO CPN
    OIC HQ PPE ETA LTD PLC RSPCA RSPB DWP CID MASH PCC FYI TBC TBA NOK DOB NFPA GDPR DPA FOI MP MEP
    YOT YOS IOM PPU CCG ICB LSCB LSCP SAB DVPO DVPN CPW PSPO OPCC IOPC NPT SNT HMO HMP YOI EHCP SENCO
    LADO FGM CSE CCE NRM SOCG OCG PPN VPU VRU NPS ASC CIN LAC CLA NHSE UKBA HMPPS CJSM ACPO NPCC NCA
    RTA DDA SIA TFL DBS MOD RSL AMPDS NCRS NFIB ASAP TWOCS HATE UNIT TEAM CALL NOTE INFO
    """.split()
)
