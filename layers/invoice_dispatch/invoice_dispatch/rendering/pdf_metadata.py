"""The XMP packet of a PDF/A-3b invoice carrying Factur-X.

PDF/A needs the document's identity in XMP, agreeing with the information dictionary
(ISO 19005-3, 6.6.2), and forbids undeclared XMP properties: the four ``fx:`` values the
Factur-X specification asks for are therefore declared in an extension schema. One
``rdf:RDF`` element holds everything, as XMP requires.

Each schema has its own ``rdf:Description`` that declares the namespaces it uses, as the
reference Factur-X files do. Declared once on ``rdf:RDF`` the packet is still valid RDF, but
Apache PDFBox (Preflight, and the many readers built on its XMPBox parser) refuses it with
"Schema is not set in this document : http://www.aiim.org/pdfa/ns/extension/" (issue 16).
So every description is serialized as its own element tree, whose root carries exactly
the declarations it needs.
"""

from __future__ import annotations

from datetime import date
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

FACTURX_FILENAME = "factur-x.xml"
FACTURX_XMP_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTURX_CONFORMANCE_LEVEL = "EN 16931"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_NAMESPACES = {
    "rdf": RDF,
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "fx": FACTURX_XMP_NAMESPACE,
}
for _prefix, _uri in _NAMESPACES.items():
    register_namespace(_prefix, _uri)

#: The four fx: properties: name, description (for the extension schema), value.
_FACTURX_XMP_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("DocumentFileName", "The name of the embedded XML document", FACTURX_FILENAME),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE", "INVOICE"),
    ("Version", "The actual version of the standard applying to the embedded XML document", "1.0"),
    (
        "ConformanceLevel",
        "The conformance level of the embedded XML document",
        FACTURX_CONFORMANCE_LEVEL,
    ),
)


def xmp_packet(
    title: str, author: str, producer: str, created: date | None, facturx: bool = True
) -> bytes:
    """The metadata stream's content for a PDF/A-3b invoice (with Factur-X when ``facturx``)."""
    descriptions = [
        _description(
            {_tag("pdfaid", "part"): "3", _tag("pdfaid", "conformance"): "B"},
        )
    ]
    documentary = _description()
    _language_alternative(documentary, "dc", "title", title)
    creators = SubElement(SubElement(documentary, _tag("dc", "creator")), _tag("rdf", "Seq"))
    SubElement(creators, _tag("rdf", "li")).text = author
    descriptions.append(documentary)
    basic = _description()
    SubElement(basic, _tag("xmp", "CreatorTool")).text = producer
    if created is not None:
        stamp = f"{created.isoformat()}T00:00:00Z"
        for name in ("CreateDate", "ModifyDate", "MetadataDate"):
            SubElement(basic, _tag("xmp", name)).text = stamp
    descriptions.append(basic)
    pdf = _description()
    SubElement(pdf, _tag("pdf", "Producer")).text = producer
    descriptions.append(pdf)
    if facturx:
        descriptions.append(_facturx_extension_schema())
        values = _description()
        for name, _description_text, value in _FACTURX_XMP_PROPERTIES:
            SubElement(values, _tag("fx", name)).text = value
        descriptions.append(values)
    body = "".join(tostring(description, encoding="unicode") for description in descriptions)
    return (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        + f'<rdf:RDF xmlns:rdf="{RDF}">{body}</rdf:RDF>'.encode()
        + b'</x:xmpmeta>\n<?xpacket end="r"?>'
    )


def _tag(prefix: str, name: str) -> str:
    return f"{{{_NAMESPACES[prefix]}}}{name}"


def _description(attributes: dict[str, str] | None = None) -> Element:
    """A description of its own: serialized alone, it declares only the namespaces it uses."""
    return Element(_tag("rdf", "Description"), {_tag("rdf", "about"): "", **(attributes or {})})


def _language_alternative(parent: Element, prefix: str, name: str, text: str) -> None:
    alternatives = SubElement(SubElement(parent, _tag(prefix, name)), _tag("rdf", "Alt"))
    item = SubElement(
        alternatives, _tag("rdf", "li"), {"{http://www.w3.org/XML/1998/namespace}lang": "x-default"}
    )
    item.text = text


def _facturx_extension_schema() -> Element:
    description = _description()
    schemas = SubElement(description, _tag("pdfaExtension", "schemas"))
    bag = SubElement(schemas, _tag("rdf", "Bag"))
    schema = SubElement(bag, _tag("rdf", "li"), {_tag("rdf", "parseType"): "Resource"})
    SubElement(schema, _tag("pdfaSchema", "schema")).text = "Factur-X PDFA Extension Schema"
    SubElement(schema, _tag("pdfaSchema", "namespaceURI")).text = FACTURX_XMP_NAMESPACE
    SubElement(schema, _tag("pdfaSchema", "prefix")).text = "fx"
    properties = SubElement(SubElement(schema, _tag("pdfaSchema", "property")), _tag("rdf", "Seq"))
    for name, text, _value in _FACTURX_XMP_PROPERTIES:
        prop = SubElement(properties, _tag("rdf", "li"), {_tag("rdf", "parseType"): "Resource"})
        SubElement(prop, _tag("pdfaProperty", "name")).text = name
        SubElement(prop, _tag("pdfaProperty", "valueType")).text = "Text"
        SubElement(prop, _tag("pdfaProperty", "category")).text = "external"
        SubElement(prop, _tag("pdfaProperty", "description")).text = text
    return description
