// Reads each PDF's XMP metadata with Apache PDFBox's XMPBox parser, as PDFBox Preflight and
// the many readers built on PDFBox do, and prints one line per file:
//   OK <path> part=<pdfaid:part> conformance=<pdfaid:conformance> fx=<fx:ConformanceLevel>
//   FAIL <path>: <why>
// Run with Java's source launcher (no build step):
//   java -cp /usr/share/java/pdfbox2.jar:/usr/share/java/xmpbox.jar:... XmpCheck.java a.pdf b.pdf
import java.io.File;
import java.io.InputStream;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.common.PDMetadata;
import org.apache.xmpbox.XMPMetadata;
import org.apache.xmpbox.schema.PDFAIdentificationSchema;
import org.apache.xmpbox.schema.XMPSchema;
import org.apache.xmpbox.xml.DomXmpParser;

public class XmpCheck {
    static final String FACTURX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

    public static void main(String[] args) throws Exception {
        for (String path : args) {
            System.out.println(check(path));
        }
    }

    static String check(String path) {
        try (PDDocument document = PDDocument.load(new File(path))) {
            PDMetadata metadata = document.getDocumentCatalog().getMetadata();
            if (metadata == null) {
                return "FAIL " + path + ": no XMP metadata stream";
            }
            XMPMetadata xmp;
            try (InputStream in = metadata.createInputStream()) {
                DomXmpParser parser = new DomXmpParser();
                parser.setStrictParsing(true);
                xmp = parser.parse(in);
            }
            PDFAIdentificationSchema id = xmp.getPDFIdentificationSchema();
            if (id == null) {
                return "FAIL " + path + ": no pdfaid schema";
            }
            XMPSchema facturx = xmp.getSchema(FACTURX);
            String level = facturx == null ? "-" : facturx.getUnqualifiedTextPropertyValue("ConformanceLevel");
            return "OK " + path + " part=" + id.getPart() + " conformance=" + id.getConformance()
                + " fx=" + level;
        } catch (Exception error) {
            return "FAIL " + path + ": " + error;
        }
    }
}
