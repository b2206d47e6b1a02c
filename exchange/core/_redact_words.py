"""The word lists the free-text scrubber (exchange.core.redact) works from: forenames, words that
stop a name, common English words, street words, vehicle words, brands, acronyms. Data, not rules:
extend a list here and the scrubber's tests and bench/redaction_recall.py show the effect.

None of these lists is built from the labelled test corpus (exchange/testing/redaction_labelled.py);
keep it that way, or the corpus stops measuring anything."""

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
    GBH ABH POA OAPA SOA MDA PWITS CJA TOA CDA DVLA MOT ECT CAD STORM RIPA PACE IDVA ED AE ICU ITU
    GCS CPR BA RTC HMO CPN NOK PCSO ASBO CPN CBO DPPO PNC ACRO ANPR IC TIC SOCO CSI MIT CSE OIC
    """.split()
)


# Common English words (lower case): function words, the verbs, nouns and adjectives of incident
# narratives. A lower-case word after a cue ("victim", "suspect") is read as part of a name only
# when it is not one of these ("victim jane doe" vs "victim was punched"), and so is a capitalised
# word in upper-case text or after an initial ("J. Smith" vs "graded C. Dealing ..."). Surnames
# that are also words ("wood", "green", "hall") are in SURNAME_COLLISIONS and pass after a title.
FUNCTION_WORDS = frozenset(
    """
    a an the and or but nor so yet if then than that this these those there here where when while
    who whom whose which what why how as at by for from in into of off on onto out over to up upon
    with within without under until about above across after against along among around before
    behind below beneath beside besides between beyond down during except inside near outside past
    since through throughout toward towards via per re i me my mine myself we us our ours you your
    yours he him his himself she her hers herself it its itself they them their theirs themselves
    one ones someone anyone everyone no not nor none nobody nothing all any both each either every
    few many more most much neither other others own same several some such too very also only just
    again already still even ever never not now soon once twice is am are was were be been being
    have has had having do does did doing done will would shall should can could may might must
    ought let lets s t d ll m o re ve y
    """.split()
)

COMMON_WORDS = FUNCTION_WORDS | frozenset(
    """
    said says say saying stated states state told tell tells telling reported reports report
    reporting advised advises advise admitted admits admit denied denies deny alleged alleges
    claimed claims claim believes believed believe thinks thought think knows knew know known saw
    see sees seen seeing heard hear hears felt feel feels found find finds lost lose left leave
    leaves leaving went go goes going gone came come comes coming got get gets getting gave give
    gives given giving took take takes taken taking made make makes making put puts kept keep keeps
    ran run runs running walked walk walks walking stood stand sat sit fell fall falls hit hits
    punched punch punches kicked kick kicks pushed push grabbed grab threw throw thrown smashed
    broke broken break breaking stole stolen steal stealing damaged damage assaulted assault
    attacked attack threatened threaten threatening shouted shout shouting swore swearing spat
    stabbed slashed bitten bit bleeding injured injury injuries sustained suffered refused refuses
    declined agreed agrees asked asks called calls phoned rang texted messaged sent send sends
    returned arrived attended attends attending arrested detained interviewed charged cautioned
    released bailed remanded convicted sentenced fined warned spoke spoken speak speaking talked
    explained confirmed disclosed wants wanted needs needed tried trying tries seemed appears
    appeared looked looking looks lives lived living stays stayed stay works worked working used
    using uses opened open closed close locked unlocked entered entering exited escaped fled
    followed chased drove driving driven rode riding parked crashed collided hiding hid hidden
    moved moving started starting stopped stopping dropped picked carried carrying holding held
    wearing wore dressed described describes believed unable able happy willing unwilling upset
    scared frightened drunk intoxicated aggressive abusive violent calm known unknown
    male female man woman men women boy girl boys girls lad lads youth youths child children kid
    kids baby adult adults person persons people family friend friends group gang crowd staff
    officer officers police crew crews paramedic paramedics nurse doctor ambulance fire council
    patient patients victim victims suspect suspects offender offenders witness witnesses caller
    neighbour neighbours resident residents tenant tenants occupant occupants owner owners driver
    drivers passenger passengers customer customers security manager member members
    car cars van vans vehicle vehicles bike bikes bicycle moped scooter bus taxi lorry motorbike
    house home flat flats property premises address door doors window windows garden gardens
    road street lane shop shops store pub club bar school park hospital station centre area
    room kitchen bedroom lounge bathroom stairs stairwell hallway garage shed fence wall gate roof
    phone phones mobile money cash bag bags wallet purse keys knife knives weapon weapons gun
    bottle glass hammer bat drugs drug cannabis alcohol
    time times day days night nights morning afternoon evening week weeks month months year years
    today tonight yesterday tomorrow earlier later previously recently currently approx approximately
    around about nearly almost over under ago
    black white grey gray red blue dark light silver gold tall short slim large small big little
    old young new long first second third last next other another same different good bad
    further no nfa yes ok okay please thanks re regarding reference ref info update updates
    details detail statement statements incident incidents crime crimes offence offences report
    reports matter issue issues concern concerns complaint complaints damage noise smell music
    minor serious major multiple several various possible likely believed suspected alleged
    medical treatment care support help advice referral contact visit visits call calls message
    messages letter letters notice warning order
    back round away home inside outside upstairs downstairs together alone again instead enough
    well quickly slowly suddenly immediately eventually finally later meanwhile often always usually
    sometimes rarely maybe perhaps probably definitely really quite rather pretty fairly extremely
    mum mom dad nan nana gran granny grandad grandma grandpa auntie uncle aunt sister brother son
    daughter wife husband partner boyfriend girlfriend mate mates friend neighbour carer sibling
    dog dogs cat cats pet pets horse horses animal animals bird birds
    help helped helping fight fights fighting fought argue argued argument arguments row rows
    shouted screamed screaming crying cried laughing laughed smiled waved pointed looked stared
    phone called ring rung dialled reported emailed email e-mail mailed posted tweeted photographed
    photographs photograph photos photo pictures picture video videos footage image images screenshot
    screenshots evidence exhibit exhibits sample samples documents document paperwork form forms
    buy bought sell sold selling pay paid paying owe owed lend lent borrow borrowed spend spent
    eat ate eating drink drank drinking smoke smoked smoking sleep slept sleeping wake woke
    climbed jumped ran dragged pulled kicked slapped strangled choked bit scratched stamped
    damaged smashed broken cracked dented scratched burnt burned burning set lit alight
    returned removed replaced recovered seized searched checked reviewed viewed watched noted
    recorded logged updated informed notified referred contacted visited attended supported
    arrested charged bailed cautioned released interviewed detained transported conveyed
    discharged admitted treated assessed examined triaged dressed glued stitched sutured
    unconscious conscious breathing alert orientated confused drowsy vomiting bleeding swollen
    fractured broken bruised cut cuts grazes bruising swelling pain injuries wound wounds
    nothing something anything everything everyone everybody somebody anybody nobody
    own else whole half part parts piece pieces lot lots bit bits loads plenty
    told ask asked answer answered reply replied respond responded refuse refused agree agreed
    wanted hoped expected decided tried managed failed forgot remembered realised noticed
    continued continues continuing began begun begin started stopped finished ended
    outside inside behind front rear side top bottom corner middle end edge
    north south east west northbound southbound eastbound westbound nearby local locally
    town city village estate centre center park field fields woods canal river bridge underpass
    alley alleyway footpath pavement kerb verge road roads street streets junction roundabout
    shop supermarket pub club takeaway cafe restaurant bank school college hospital surgery
    church mosque temple library station stop bus train tram taxi rank car park
    morning afternoon evening night midnight midday weekend weekday hours hour minutes minute
    seconds second daily weekly monthly yearly annual
    one two three four five six seven eight nine ten eleven twelve twenty thirty hundred thousand
    once twice first last
    anyway however although though because since unless whether either neither
    self presented present presenting presents accused accuses suffering suffers complained complains
    complaining collapsed collapses fainted slipped tripped vomited overdosed cut cutting harmed
    harming threatened threatening harassed harassing stalked stalking followed following
    approached approaching confronted confronting abused abusing insulted insulting intimidated
    breached breaching ignored ignoring blocked blocking parked parking reversed reversing
    escaped escaping evacuated evacuating rescued rescuing extinguished isolated ventilated
    transferred transferring handed handing collected collecting delivered delivering
    purchased stolen missing located traced identified named nominated
    believed believes suspected suspects feared fears worried worries concerned
    living staying sleeping rough homeless vulnerable elderly disabled pregnant
    """.split()
)


# Words that put a vehicle in the sentence: a lower-case registration in the old ("a123 bcd") or
# the dateless form is read only near one of these.
VEHICLE_WORDS = frozenset(
    """
    car cars van vans vehicle vehicles veh motor motorbike motorcycle moped scooter taxi cab lorry
    truck hgv bus minibus coach camper caravan trailer tractor jeep pickup hatchback saloon estate
    suv mpv 4x4 reg registration registered vrm vrn index plate plates numberplate anpr dvla keeper
    driver drivers driving drove driven parked parking rider ridden
    ford vauxhall nissan toyota honda audi bmw mercedes volkswagen vw kia hyundai peugeot renault
    citroen fiat mini skoda seat volvo mazda suzuki yamaha kawasaki land range rover jaguar lexus
    tesla mitsubishi subaru dacia mg smart porsche ducati triumph piaggio vespa transit sprinter
    astra corsa focus fiesta golf polo clio qashqai juke octavia leon yaris aygo micra jazz civic
    a3 a4 mondeo insignia zafira kuga puma cooper
    """.split()
)


# Who is "called" or "named" something: a lower-case word after "called"/"named" is read as a name
# only after one of these ("a male called dave"; not "she called mum").
PERSON_NOUNS = frozenset(
    """
    male female man woman men women lad lads boy boys girl girls youth youths guy bloke someone somebody
    person child kid baby friend mate boyfriend girlfriend partner ex son daughter brother sister
    cousin nephew niece uncle aunt neighbour tenant landlord suspect victim offender witness
    caller informant resident occupant patient driver passenger
    """.split()
)


# Words before a single capital letter that make it a category, not an initial ("Class A", "Cat B",
# "Block C"): "Class A Drugs" is not "A. Drugs".
CATEGORY_WORDS = frozenset(
    """
    class category cat grade graded type plan block flat unit section schedule part appendix annex
    exhibit item zone area level tier stage phase bay ward wing gate platform vitamin hepatitis
    group team route junction floor form size model series box option question table figure step
    point row column seat door room pump appliance channel line cell cubicle resus majors minors
    division sector code band key list stand court plot pitch house hall lot bed set
    """.split()
)


# Lower-case particles inside surnames ("da Silva", "van der Berg", "al-Rashid", "ap Rhys").
NAME_PARTICLES = frozenset(
    "van von der den de del della di da dos das du la le al el bin binti ibn ap ní nic ó".split()
)


# More forenames, of the communities the UK's police, councils and NHS serve (Irish, Scottish,
# Welsh, South Asian, Arabic, Somali, West and East African, Caribbean, Polish, Romanian,
# Lithuanian, Turkish, Kurdish, Chinese and Vietnamese), for the "First Surname" form without a
# cue. Names that are ordinary capitalised words, places or brands (Hope, Faith, Can, India, Stella,
# Austin, Morgan, Levi, Miles) stay out.
FORENAMES_MORE = frozenset(
    """
    Aidan Aiden Alisha Amara Amari Amelie Aneurin Angharad Anwen Aoibhinn Ashton Ayaan Ayla Bethan
    Bronwen Brandon Caitlin Caoimhe Carys Cerys Ciara Cillian Conor Cormac Darragh Dervla Dewi
    Eamon Eamonn Eilidh Eimear Eoin Euan Ffion Fergus Finlay Fraser Gethin Grainne Gwen Gwyn Hamish
    Iestyn Iwan Keira Kenzie Lachlan Lowri Mairead Mairi Meredith Murray Nia Oisin Padraig Rhodri
    Ruairi Seamus Shona Sinead Sorcha Tadhg Tegan Aarav Aditya Akash Amandeep Amrit Anil Anita Arun
    Ashok Asif Baljit Balvinder Bhavna Deepak Deepa Dilip Farhan Faisal Farida Gurdeep Gurpreet
    Harjit Harpreet Harvinder Hardeep Inderjit Jagdeep Jaspal Jaswinder Jatinder Kamaljit Kiran
    Kuldeep Kulwinder Lakshmi Manpreet Manjit Meena Mohinder Nadeem Naveed Neha Nisha Parminder
    Pooja Pradeep Rajesh Rajinder Rakesh Ramesh Ravi Rekha Rohit Sandeep Sanjeev Satnam Shabana
    Shahid Sukhvinder Sunil Suresh Tahir Tanveer Vijay Waqas Zeeshan Zubair Abdul Abdullah
    Abdirahman Abdi Ahmad Ahmet Amir Amira Anwar Ayoub Bashir Fadumo Fahad Habib Hamid Hamza Hana
    Hasan Hodan Hussein Ibrahim Idris Ismail Jamal Karim Khadija Khalid Layla Mahmoud Malik Mariam
    Marwa Mustafa Nasra Noor Rashid Salma Samira Sami Sara Yasmin Yusuf Zahra Zaynab Warsame
    Mohamed Mohamud Abdikarim Adaeze Adebayo Ade Adewale Akosua Amaka Babajide Chidinma Chinedu
    Chioma Chukwuma Emeka Folake Funmilayo Ifeoma Kemi Kwabena Kwame Kwasi Nkechi Nnamdi Olamide
    Olu Oluwaseun Oluwatobi Segun Tendai Tunde Yetunde Zodwa Thandiwe Themba Kemar Jermaine Tyrone
    Delroy Leroy Marlon Winston Shanice Shaniqua Tyrese Keisha Latoya Jahmal Agata Aleksander
    Andrzej Bartosz Beata Dariusz Dawid Ewa Grzegorz Jacek Jadwiga Janusz Jaroslaw Kamil Karolina
    Krystyna Łukasz Lukasz Malgorzata Marek Mariusz Mateusz Michal Monika Pawel Paulina Przemyslaw
    Radoslaw Slawomir Szymon Wiktoria Wojciech Zbigniew Zuzanna Adrian Alexandru Catalin Cosmin
    Cristian Daniela Elena Gabriel Gheorghe Ioan Iulia Mihai Mirela Nicoleta Ovidiu Radu Razvan
    Sorin Stefan Vasile Viorel Aurelia Aistė Aurimas Darius Domantas Gintaras Jonas Jurgita Lukas
    Mantas Rasa Tomas Egle Inga Ieva Ruta Ayse Burak Cem Deniz Emine Fatma Hakan Hatice Kemal
    Mehmet Murat Ozlem Selin Serkan Azad Baran Dilan Rojin Shilan Zana Berivan Hiwa Xiao Mei Ying
    Zhen Chen Minh Thu Huong Linh Duc Tuan Anh Hoa Trang Nguyet Quang Phuong Hieu Ana Andrea
    Antonio Beatriz Carla Carlos Carmen Catarina Diego Eduardo Fernando Francisco Joana Jose Josefa
    Juan Luis Luisa Manuel Marco Mario Miguel Nuno Paulo Pedro Rafael Ricardo Rui Sergio Teresa
    Valentina Alessandro Francesca Giulia Giuseppe Matteo Sofia Dmitri Dmitry Ivan Igor Natalia
    Olga Oksana Sergei Svetlana Tatiana Viktor Yuri Zoltan Ferenc Gabor Laszlo Attila Jan Jana
    Katerina Milan Arben Besnik Blerina Dritan Ermal Fatjon Genti Gentiana Klodian Luan Valbona
    Alexa Alexis Anya Bella Beatrice Bianca Bonnie Brooke Cara Carly Cassie Chantelle Clara Darcy
    Dionne Ebony Eleanor Eliza Elsa Emilia Esther Evelyn Fiona Gabrielle Georgina Gina Gloria
    Hallie Heidi Isabel Isobel Jacqui Jemma Jenna Josie Julia Kayla Kerry Kimberley Kirsten Lacey
    Lara Lexi Libby Lola Lottie Lydia Mabel Maddison Madison Marie Martha Maya Melissa Mollie Nancy
    Natasha Nina Rebekah Rhiannon Riya Robyn Rosie Sadie Scarlett Serena Tamara Tanya Tara Tessa
    Thea Tilly Vanessa Violet Yasmine Yvonne Zara Zoë Alex Alistair Andre Angus Antony Ashley
    Barney Blake Bruce Caleb Cameron Casey Clive Cody Damian Damien Duncan Dwayne Eddie Elliot
    Elliott Eric Felix Finn Frazer Gavin Geoffrey Glenn Gregory Hayden Howard Jared Jay Jerome
    Jesse Joel Jonah Josh Julian Justin Kane Keiran Kian Kieron Kris Kurt Leon Leonard Lloyd Lorcan
    Louis Malachi Marc Martyn Mathew Maurice Mitchell Nathaniel Nigel Noel Otis Phillip Quentin
    Rafe Ralph Rian Robin Rodney Roland Ronan Ross Rowan Roy Russell Shane Shay Spencer Tobias
    Travis Tristan Troy Vernon Victor Warren Wesley Zach Zak
    """.split()
)


# The forenames the scrubber reads: the common list above and the wider one.
FORENAMES = FORENAMES | FORENAMES_MORE
